// Every code is applied for; a code the catalog does not know but the file lists is trusted,
// even when it is close to a catalogued one.
use dingscope::{requires_scope, Grant};

#[requires_scope("qyapi_hrm_read_user", field("Contact.User.mobile"))]
fn listed() -> Result<(), dingscope::Error> {
    Ok(())
}

#[requires_scope("Contact.User.Reads")]
fn trusted_by_the_file() -> Result<(), dingscope::Error> {
    Ok(())
}

#[requires_scope(any("Contact.User.Read", "qyapi_get_member"), auth = delegated)]
fn one_alternative_applied() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {
    Grant::application(["qyapi_hrm_read_user", "Contact.User.mobile", "Contact.User.Reads"]).run(|| {
        listed().unwrap();
        trusted_by_the_file().unwrap();
    });
    Grant::delegated(["Contact.User.Read"]).run(|| one_alternative_applied().unwrap());
}
