use dingscope::requires_scope;

#[derive(Debug)]
pub struct MyError;

#[requires_scope("Contact.User.Read")]
async fn f() -> Result<(), MyError> {
    Ok(())
}

fn main() {}
