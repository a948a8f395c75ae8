use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", auth)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
