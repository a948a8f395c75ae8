use dingscope::requires_scope;

#[requires_scope(any("Contact.User.Read"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
