use dingscope::requires_scope;

#[requires_scope(any)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
