// `#[async_trait]` methods: the check goes inside the boxed future.
use async_trait::async_trait;
use dingscope::{requires_scope, Grant, WithGrantExt};

#[async_trait]
trait Hrm {
    async fn dismissed(&self) -> Result<Vec<String>, dingscope::Error>;
}

struct Client;

#[async_trait]
impl Hrm for Client {
    #[requires_scope("qyapi_hrm_read_user")]
    async fn dismissed(&self) -> Result<Vec<String>, dingscope::Error> {
        Ok(vec!["user001".to_owned()])
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let fut = Client.dismissed();
    let grant = Grant::application(["qyapi_hrm_read_user"]);
    assert_eq!(fut.with_grant(&grant).await.unwrap(), ["user001"]);
    assert!(Client.dismissed().await.is_err());
}
