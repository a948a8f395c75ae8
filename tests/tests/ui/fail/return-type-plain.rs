use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
fn f() -> u32 {
    1
}

fn main() {}
