use dingscope::requires_scope;

#[requires_scope("Contact.User.Read,qyapi_get_member")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
