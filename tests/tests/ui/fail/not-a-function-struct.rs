use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
pub struct Client;

fn main() {}
