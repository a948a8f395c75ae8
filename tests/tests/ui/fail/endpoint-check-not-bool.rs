use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", endpoint_check = "no")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
