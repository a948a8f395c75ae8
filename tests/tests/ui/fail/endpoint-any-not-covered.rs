use dingscope::requires_scope;

#[requires_scope(any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"))]
fn f() -> Result<(), dingscope::Error> {
    let _url = "https://api.dingtalk.com/v1.0/hrm/employees/dismissions";
    Ok(())
}

fn main() {}
