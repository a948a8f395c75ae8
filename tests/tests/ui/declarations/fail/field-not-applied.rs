use dingscope::requires_scope;

#[requires_scope("qyapi_hrm_read_user", field("Contact.User.email"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
