use dingscope::requires_scope;

#[requires_scope("Contact.User.Read", scope_type = 1)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
