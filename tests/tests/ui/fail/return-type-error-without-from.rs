use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
async fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
