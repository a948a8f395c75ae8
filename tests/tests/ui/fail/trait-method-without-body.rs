use dingscope::requires_scope;

trait Directory {
    #[requires_scope("Contact.User.Read")]
    fn lookup(&self) -> Result<String, dingscope::Error>;
}

fn main() {}
