use dingscope::requires_scope;

#[requires_scope("qyapi_hrm_read_user", "qyapi_get_member")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
