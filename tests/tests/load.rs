//! Load: 10,000 calls from 64 tasks while the mock's tokens expire every 2 seconds. No
//! call may carry an expired token (refresh ahead of expiry), and the token requests
//! stay one per refresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dingscope::Secret;
use dingscope::client::{App, DingTalk};
use dingscope_mock::MockDingTalk;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_while_tokens_expire() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite("suite", "suite-secret", "ticket", "corp");
    mock.grant_corp("corp", ["qyapi_hrm_read_user"]);
    mock.set_expire_in(2);
    let dt = DingTalk::builder(App::isv("suite", Secret::new("suite-secret")))
        .api_base(mock.base_url())
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new("ticket")).await.unwrap();
    let corp = Arc::new(dt.corp("corp"));
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let corp = corp.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..157 {
                corp.get("/v1.0/hrm/employees/dismissions")
                    .query("maxResults", 1)
                    .send::<serde_json::Value>()
                    .await
                    .unwrap();
                // Spread the calls over several token lifetimes.
                if i % 8 == 0 {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed();
    let calls = mock.api_requests("/v1.0/hrm/employees/dismissions");
    let tokens = mock.token_requests();
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "load: {calls} calls from 64 tasks in {:.2} s, {tokens} token requests, {} with an expired token",
        elapsed.as_secs_f64(),
        mock.expired_token_uses()
    );
    assert_eq!(calls, 64 * 157);
    assert_eq!(
        mock.expired_token_uses(),
        0,
        "a call carried an expired token"
    );
    // Tokens are refreshed at half their 2 s life: about one request per second.
    let most = elapsed.as_secs() + 2;
    assert!(
        tokens >= 1 && tokens <= most,
        "{tokens} token requests in {elapsed:?}"
    );
}
