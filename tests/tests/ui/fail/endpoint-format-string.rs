use dingscope::requires_scope;

#[requires_scope("Device.AIoT.Read")]
fn f(product: &str, device: &str) -> Result<(), dingscope::Error> {
    let _url = format!("https://api.dingtalk.com/v1.0/aiot/products/{product}/devices/{}/properties", device);
    Ok(())
}

fn main() {}
