use dingscope::requires_scope;

#[requires_scope("Contact.User", "", "Contact.User.Raed", anyy("x_y"), auth = user)]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
