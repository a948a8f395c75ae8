use dingscope::requires_scope;

#[requires_scope("Contact.User.Read")]
fn f() -> Result<(), dingscope::Error> {
    let _url = "/v1.0/hrm/employees/dismissions?nextToken=0&maxResults=30";
    Ok(())
}

fn main() {}
