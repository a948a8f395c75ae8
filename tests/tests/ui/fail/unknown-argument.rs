use dingscope::requires_scope;

#[requires_scope(anyy("Contact.User.Read", "qyapi_get_member"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
