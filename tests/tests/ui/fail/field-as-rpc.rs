use dingscope::requires_scope;

#[requires_scope("Contact.User.mobile")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
