use dingscope::requires_scope;

#[requires_scope("Contact.User.Read2")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
