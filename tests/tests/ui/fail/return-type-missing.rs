use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
fn f() {
    println!("hi");
}

fn main() {}
