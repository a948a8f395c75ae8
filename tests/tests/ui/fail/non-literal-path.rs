use dingscope::requires_scope;

#[requires_scope(crate::scopes::READ)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
