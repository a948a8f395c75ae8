use dingscope::requires_scope;

#[requires_scope("qyapi_hrm_read_usr")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
