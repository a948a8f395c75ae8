use dingscope::requires_scope;

#[requires_scope(field("Contact.User.Read"))]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
