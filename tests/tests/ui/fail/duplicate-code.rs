use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", "Contact.User.Read")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
