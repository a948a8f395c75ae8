use dingscope::requires_scope;

#[requires_scope]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
