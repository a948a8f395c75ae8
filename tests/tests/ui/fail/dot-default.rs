use dingscope::requires_scope;

#[requires_scope(".default")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
