use dingscope::requires_scope;

#[requires_scope("contact.user.read")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
