use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", field("Contact.User.mobile"), auth = application)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
