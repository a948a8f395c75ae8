use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
const fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
