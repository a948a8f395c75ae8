use dingscope::requires_scope;

const SCOPE: &str = "Contact.User.Read";

#[requires_scope(SCOPE)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {
    let _ = SCOPE;
}
