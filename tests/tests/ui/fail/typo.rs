use dingscope::requires_scope;

#[requires_scope("Contact.User.Raed")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
