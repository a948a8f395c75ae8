use dingscope::requires_scope;

#[requires_scope(any("Contact.User.Read", field("Contact.User.mobile")))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
