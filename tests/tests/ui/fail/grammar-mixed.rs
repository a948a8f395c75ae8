use dingscope::requires_scope;

#[requires_scope("Contact.user_read.All")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
