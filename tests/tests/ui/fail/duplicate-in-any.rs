use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", any("qyapi_get_member", "Contact.User.Read"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
