use dingscope::requires_scope;

#[requires_scope(concat!("Contact.", "User.Read"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
