use dingscope::requires_scope;

#[requires_scope("Contact.User")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
