use dingscope::requires_scope;

#[requires_scope(auth = delegated)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
