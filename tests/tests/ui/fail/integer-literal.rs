use dingscope::requires_scope;

#[requires_scope(42)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
