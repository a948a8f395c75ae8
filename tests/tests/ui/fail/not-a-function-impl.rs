use dingscope::requires_scope;

struct Client;

#[requires_scope("Contact.User.Read")]
impl Client {
    fn get(&self) {}
}

fn main() {
    Client.get();
}
