use dingscope::requires_scope;

#[requires_scope(any("Contact.User.Read", any("qyapi_get_member", "snsapi_base")))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
