use dingscope::requires_scope;

#[requires_scope("qyapi_Get_member")]
fn f() -> Result<(), dingscope::Error> {
    Ok(())
}

fn main() {}
