use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
const LIMIT: u32 = 50;

fn main() {
    let _ = LIMIT;
}
