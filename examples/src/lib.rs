//! The API-call functions the examples share, each declaring what it needs, and the
//! setup that points them at the embedded mock DingTalk or, given credentials, the real one.

use dingscope::client::stream::{Connection, StreamHandle};
use dingscope::client::{App, DingTalk, Paging, Principal};
use dingscope::{Error, Grant, Secret, requires_scope};

/// The scope manifest of this crate, collected by `build.rs`: openAuth's parameters per
/// authorization type (`RPC_SCOPE_APPLICATION`, `FIELD_SCOPE_DELEGATED`, ...).
pub mod scopes {
    dingscope::include_manifest!();
}
use dingscope_mock::MockDingTalk;

pub mod web;
use serde::Deserialize;

/// One page of `GET /v1.0/hrm/employees/dismissions` (获取离职员工列表).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DismissedPage {
    /// The user ids on this page.
    #[serde(rename = "userIdList", default)]
    pub user_ids: Vec<String>,
    /// The cursor of the next page.
    #[serde(rename = "nextToken", default)]
    pub next_token: u64,
    /// Whether there is a next page.
    #[serde(rename = "hasMore", default)]
    pub has_more: bool,
}

/// Lists employees who have left, one page of at most 50.
#[requires_scope("qyapi_hrm_read_user")]
pub async fn list_dismissed(corp: &Principal, next_token: u64) -> Result<DismissedPage, Error> {
    corp.get("/v1.0/hrm/employees/dismissions")
        .query("nextToken", next_token)
        .query("maxResults", 50)
        .send()
        .await
}

/// Every employee who has left: every page, read as one list.
#[requires_scope("qyapi_hrm_read_user")]
pub async fn all_dismissed(corp: &Principal) -> Result<Vec<String>, Error> {
    corp.get("/v1.0/hrm/employees/dismissions")
        .query("maxResults", 50)
        .pages(Paging::next_token("userIdList"))
        .collect_all()
        .await
}

/// How many employees have left. Either code will do: DingTalk's current docs name
/// `qyapi_hrm_read_user`, the developerpedia example `Pro.HrmDismission.ReadWrite`. The
/// manifest resolves the choice to the code other functions need anyway.
#[requires_scope(any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"))]
pub async fn count_dismissed(corp: &Principal) -> Result<usize, Error> {
    Ok(all_dismissed(corp).await?.len())
}

/// What the signed-in user granted, from `GET /v1.0/oauth2/authRules/user`.
#[requires_scope("snsapi_base", auth = delegated)]
pub async fn my_grant(user: &Principal) -> Result<Grant, Error> {
    user.refresh_user_grant().await
}

/// The signed-in user's profile; the mobile number comes only with the field grant.
#[requires_scope("Contact.User.Read", field("Contact.User.mobile"), auth = delegated)]
pub async fn my_profile(user: &Principal) -> Result<serde_json::Value, Error> {
    user.get("/v1.0/contact/users/me").send().await
}

/// Prints `tracing` events to stderr, filtered as `RUST_LOG` says (`debug`,
/// `dingscope=trace`, ...); nothing without it.
pub fn init_logging() {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// Waits until the mock's gateway has the acknowledgement of the event `id`.
pub async fn acknowledged(mock: &MockDingTalk, id: &str) {
    while !mock
        .stream_acks()
        .iter()
        .any(|a| a["headers"]["messageId"] == id)
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// The ISV app the examples run as.
#[derive(Debug)]
pub struct Setup {
    /// The client.
    pub dt: DingTalk,
    /// The authorizing corp.
    pub corp_id: String,
    /// The mock, when running without DingTalk credentials.
    pub mock: Option<MockDingTalk>,
    /// The Stream connection that brings DingTalk's pushes: the suite ticket, corps
    /// authorizing and removing the app.
    pub stream: StreamHandle,
}

/// With `DINGSCOPE_SUITE_KEY`, `DINGSCOPE_SUITE_SECRET` and `DINGSCOPE_CORP_ID` set, the
/// real DingTalk: the suite ticket arrives by Stream mode (enable Stream mode for the
/// suite's events in the developer console), or from `DINGSCOPE_SUITE_TICKET` if set.
/// Otherwise the embedded mock on 127.0.0.1, with one suite and one corp that opens it,
/// whose gateway pushes the suite ticket and the corp's authorization.
pub async fn setup(applied: &[&str]) -> Result<Setup, Box<dyn std::error::Error>> {
    init_logging();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(key), Some(secret), Some(corp_id)) = (
        var("DINGSCOPE_SUITE_KEY"),
        var("DINGSCOPE_SUITE_SECRET"),
        var("DINGSCOPE_CORP_ID"),
    ) {
        let dt = DingTalk::builder(App::isv(key, Secret::new(secret)))
            .applied(applied.iter().copied())
            .build()?;
        if let Some(ticket) = var("DINGSCOPE_SUITE_TICKET") {
            dt.set_suite_ticket(Secret::new(ticket)).await?;
        }
        let stream = dt.stream().start();
        return Ok(Setup {
            dt,
            corp_id,
            mock: None,
            stream,
        });
    }
    let mock = MockDingTalk::start().await?;
    mock.add_suite("mock-suite-key", "mock-suite-secret");
    mock.authorize_corp("mock-suite-key", "dingmockcorp");
    let dt = DingTalk::builder(App::isv("mock-suite-key", Secret::new("mock-suite-secret")))
        .api_base(mock.base_url())
        .oapi_base(mock.base_url())
        .applied(applied.iter().copied())
        .build()?;
    let stream = dt.stream().start();
    stream
        .wait_for(|s| s.connection == Connection::Connected)
        .await;
    if !mock.stream_connected().await {
        return Err("the Stream client did not connect to the mock's gateway".into());
    }
    // DingTalk pushes a suite ticket every few hours, and the corp's authorization when
    // an admin opens the app; the Stream client applies both by itself.
    let ticket = mock.stream_suite_ticket("mock-suite-key", "mock-ticket-1");
    let auth = serde_json::json!({
        "authCorpInfo": {"corpId": "dingmockcorp", "corpName": "Mock Corp"},
        "authInfo": {"agent": [{"agentId": 1001}]},
        "authUserInfo": {"userId": "admin001"},
    });
    let authorized = mock.stream_push("org_suite_auth", Some("dingmockcorp"), auth);
    // An event is acknowledged once it is applied.
    for id in [ticket, authorized] {
        acknowledged(&mock, &id.ok_or("no Stream connection to push to")?).await;
    }
    Ok(Setup {
        dt,
        corp_id: "dingmockcorp".into(),
        mock: Some(mock),
        stream,
    })
}
