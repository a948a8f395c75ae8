//! The client against the embedded mock DingTalk: every token flow, grants, the pre-call
//! check, DingTalk's denial shapes, token expiry, throttling, timeouts and bad answers.

use std::sync::Arc;
use std::time::Duration;

use dingscope::client::{App, DingTalk, OpenAuthStatus, Principal, Retry};
use dingscope::{AuthType, DenyReason, Error, OpenAuthRequest, Secret, requires_scope};
use dingscope_mock::{DenialShape, Fault, MockDingTalk, Target};
use serde_json::Value;

mod common;
use common::*;

async fn isv() -> (MockDingTalk, DingTalk) {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, TICKET, CORP);
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .oapi_base(mock.base_url())
        .retry(fast_retry())
        .applied(["qyapi_hrm_read_user", "Contact.User.Read"])
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    (mock, dt)
}

fn ask(rpc: &str, auth_type: AuthType) -> OpenAuthRequest {
    OpenAuthRequest {
        rpc_scope: rpc.into(),
        field_scope: String::new(),
        auth_type,
    }
}

/// The admin grants in openAuth, and the app records the answer.
async fn grant(mock: &MockDingTalk, corp: &Principal, codes: &[&str]) {
    mock.grant_corp(CORP, codes.iter().copied());
    corp.record_open_auth(
        &ask(&codes.join(","), AuthType::Application),
        OpenAuthStatus::Ok,
    )
    .await
    .unwrap();
}

async fn page(corp: &Principal, next: u64) -> Result<Value, Error> {
    corp.get(DISMISSIONS)
        .query("nextToken", next)
        .query("maxResults", 50)
        .send()
        .await
}

fn denied(e: &Error) -> &dingscope::Denied {
    e.as_denied().unwrap_or_else(|| panic!("not a denial: {e}"))
}

#[tokio::test]
async fn isv_corp_token_and_paging() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    let mut ids = Vec::new();
    let mut next = 0;
    loop {
        let p = page(&corp, next).await.unwrap();
        ids.extend(
            p["userIdList"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned()),
        );
        if !p["hasMore"].as_bool().unwrap() {
            break;
        }
        next = p["nextToken"].as_u64().unwrap();
    }
    assert_eq!(ids.len(), 120);
    assert_eq!(mock.api_requests(DISMISSIONS), 3);
    assert_eq!(mock.token_requests(), 1);
}

#[tokio::test]
async fn uncovered_call_sends_nothing() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let err = page(&corp, 0).await.unwrap_err();
    let d = denied(&err);
    assert!(matches!(d.reason(), DenyReason::NotGranted { .. }));
    assert_eq!(d.open_auth().rpc_scope, "qyapi_hrm_read_user");
    assert_eq!(d.open_auth().auth_type, AuthType::Application);
    assert_eq!(mock.all_api_requests(), 0);
    assert_eq!(mock.token_requests(), 0);
}

#[tokio::test]
async fn server_denials_in_every_shape_update_the_grant() {
    for shape in [
        DenialShape::Detail,
        DenialShape::DetailCamel,
        DenialShape::MessageOnly,
    ] {
        let (mock, dt) = isv().await;
        mock.set_denial_shape(shape);
        let corp = dt.corp(CORP);
        // The app believes it has the code (stale configuration); DingTalk disagrees.
        corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
        let err = page(&corp, 0).await.unwrap_err();
        let d = denied(&err);
        assert!(
            matches!(d.reason(), DenyReason::Server { .. }),
            "{shape:?}: {err}"
        );
        assert_eq!(d.open_auth().rpc_scope, "qyapi_hrm_read_user", "{shape:?}");
        assert!(
            !corp.grant().await.unwrap().contains("qyapi_hrm_read_user"),
            "{shape:?}"
        );
        // The next call is stopped before it is sent.
        let before = mock.api_requests(DISMISSIONS);
        let err = page(&corp, 0).await.unwrap_err();
        assert!(matches!(
            denied(&err).reason(),
            DenyReason::NotGranted { .. }
        ));
        assert_eq!(mock.api_requests(DISMISSIONS), before);
    }
}

#[tokio::test]
async fn old_api_denial_and_success() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let old = "/topapi/smartwork/hrm/employee/querydimission";
    let err = corp
        .post(old)
        .json(&serde_json::json!({"offset": 0, "size": 50}))
        .send::<Value>()
        .await
        .unwrap_err();
    match denied(&err).reason() {
        DenyReason::Server { code, .. } => assert_eq!(code, "88"),
        r => panic!("{r:?}"),
    }
    assert_eq!(denied(&err).open_auth().rpc_scope, "qyapi_hrm_read_user");
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    let v: Value = corp
        .post(old)
        .json(&serde_json::json!({"offset": 0, "size": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(v["result"]["next_cursor"], 50);
}

#[requires_scope("Contact.User.Read", endpoint_check = false)]
async fn wrongly_declared(corp: &Principal) -> Result<Value, Error> {
    corp.get("/v1.0/hrm/employees/dismissions").send().await
}

#[tokio::test]
async fn a_denial_names_codes_the_function_did_not_declare() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["Contact.User.Read"]).await;
    corp.set_grant(["Contact.User.Read", "qyapi_hrm_read_user"])
        .await
        .unwrap();
    let err = corp
        .run(wrongly_declared(&corp))
        .await
        .unwrap()
        .unwrap_err();
    let d = denied(&err);
    assert_eq!(d.function(), "client::wrongly_declared");
    match d.reason() {
        DenyReason::Server { undeclared, .. } => {
            assert_eq!(
                undeclared.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                ["qyapi_hrm_read_user"]
            )
        }
        r => panic!("{r:?}"),
    }
    assert!(
        err.to_string().contains("the declaration is wrong"),
        "{err}"
    );
}

#[tokio::test]
async fn expired_token_is_refreshed_once_transparently() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    page(&corp, 0).await.unwrap();
    mock.expire_all_tokens();
    page(&corp, 0).await.unwrap();
    assert_eq!(mock.token_requests(), 2);
    // A token refused even when fresh: one retry, then a typed error.
    mock.inject(Target::Api, Fault::ExpiredToken);
    mock.inject(Target::Api, Fault::ExpiredToken);
    assert!(matches!(
        page(&corp, 0).await.unwrap_err(),
        Error::BadToken(_)
    ));
}

#[tokio::test]
async fn throttling_timeouts_and_failures_are_retried() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    for fault in [
        Fault::Throttle,
        Fault::TooManyRequests,
        Fault::GatewayTimeout,
        Fault::Status(500),
    ] {
        let before = mock.api_requests(DISMISSIONS);
        mock.inject(Target::Api, fault.clone());
        page(&corp, 0)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(mock.api_requests(DISMISSIONS) - before, 2, "{fault:?}");
    }
    for _ in 0..3 {
        mock.inject(Target::Api, Fault::Throttle);
    }
    match page(&corp, 0).await.unwrap_err() {
        Error::Throttled(e) => assert_eq!(e.attempts, 3),
        e => panic!("{e}"),
    }
    for _ in 0..3 {
        mock.inject(Target::Api, Fault::GatewayTimeout);
    }
    assert!(matches!(
        page(&corp, 0).await.unwrap_err(),
        Error::Timeout(_)
    ));
    mock.inject(Target::Api, Fault::MalformedJson);
    assert!(matches!(
        page(&corp, 0).await.unwrap_err(),
        Error::Protocol(_)
    ));
}

#[tokio::test]
async fn slow_answers_time_out() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.add_app("app-key", "app-secret-value", CORP);
    let dt = DingTalk::builder(App::internal(
        "app-key",
        Secret::new("app-secret-value"),
        CORP,
    ))
    .api_base(mock.base_url())
    .timeout(Duration::from_millis(100))
    .retry(Retry {
        attempts: 2,
        ..fast_retry()
    })
    .build()
    .unwrap();
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    mock.inject(Target::Api, Fault::Latency(Duration::from_millis(400)));
    page(&corp, 0).await.unwrap();
    mock.inject(Target::Api, Fault::Latency(Duration::from_millis(400)));
    mock.inject(Target::Api, Fault::Latency(Duration::from_millis(400)));
    assert!(matches!(
        page(&corp, 0).await.unwrap_err(),
        Error::Timeout(_)
    ));
}

#[tokio::test]
async fn token_endpoint_faults() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    mock.inject(Target::Token, Fault::RejectCredentials);
    assert!(
        matches!(page(&corp, 0).await.unwrap_err(), Error::Token(e) if e.code == "invalidClientIdOrSecret")
    );
    mock.inject(Target::Token, Fault::MalformedJson);
    assert!(matches!(
        page(&corp, 0).await.unwrap_err(),
        Error::Protocol(_)
    ));
    mock.inject(Target::Token, Fault::Status(500));
    page(&corp, 0).await.unwrap();
    // expireIn 0: the token is used once and not cached.
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    for reported in [0, -5] {
        mock.inject(Target::Token, Fault::ExpireIn(reported));
        mock.inject(Target::Token, Fault::ExpireIn(reported));
        let n = mock.token_requests();
        page(&corp, 0).await.unwrap_or_else(|e| panic!("{e}"));
        page(&corp, 0).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mock.token_requests(), n + 2, "expireIn {reported}");
    }
    // A huge expireIn is believed up to 30 days, and cached.
    mock.inject(Target::Token, Fault::ExpireIn(i64::MAX));
    let n = mock.token_requests();
    page(&corp, 0).await.unwrap();
    page(&corp, 0).await.unwrap();
    assert_eq!(mock.token_requests(), n + 1);
}

#[tokio::test]
async fn suite_ticket_problems_are_clear() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, "newer-ticket", CORP);
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .retry(fast_retry())
        .build()
        .unwrap();
    let corp = dt.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    assert!(
        matches!(page(&corp, 0).await.unwrap_err(), Error::Config(m) if m.contains("set_suite_ticket"))
    );
    dt.set_suite_ticket(Secret::new("older-ticket"))
        .await
        .unwrap();
    assert!(
        matches!(page(&corp, 0).await.unwrap_err(), Error::Token(e) if e.code == "invalidSuiteTicket")
    );
    dt.set_suite_ticket(Secret::new("newer-ticket"))
        .await
        .unwrap();
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    page(&corp, 0).await.unwrap();
    let other = dt.corp("not-authorized");
    other.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    assert!(
        matches!(page(&other, 0).await.unwrap_err(), Error::Token(e) if e.code == "invalidAuthInfo")
    );
}

#[tokio::test]
async fn internal_and_unified_apps() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.add_app("app-key", "app-secret-value", CORP);
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    for app in [
        App::internal("app-key", Secret::new("app-secret-value"), CORP),
        App::unified("app-key", Secret::new("app-secret-value")),
    ] {
        let dt = DingTalk::builder(app)
            .api_base(mock.base_url())
            .build()
            .unwrap();
        let corp = dt.corp(CORP);
        corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
        page(&corp, 0).await.unwrap();
    }
    let wrong = DingTalk::builder(App::internal("app-key", Secret::new("nope"), CORP))
        .api_base(mock.base_url())
        .build()
        .unwrap();
    let corp = wrong.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    assert!(matches!(page(&corp, 0).await.unwrap_err(), Error::Token(_)));
}

#[tokio::test]
async fn user_tokens_code_exchange_refresh_rotation_and_grant_query() {
    let (mock, dt) = isv().await;
    let code = mock.grant_user(
        CORP,
        "union-1",
        ["Contact.User.Read", "snsapi_base", "Contact.User.mobile"],
    );
    let user = dt.user(CORP, "union-1");
    user.exchange_code(Secret::new(code.clone())).await.unwrap();
    let g = user.refresh_user_grant().await.unwrap();
    assert_eq!(g.auth_type(), AuthType::Delegated);
    assert!(
        g.contains("Contact.User.Read")
            && g.contains("Contact.User.mobile")
            && g.contains("snsapi_base")
    );
    let me: Value = user.get("/v1.0/contact/users/me").send().await.unwrap();
    assert_eq!(me["mobile"], "13800000000");
    // The code is one-time.
    assert!(matches!(
        user.exchange_code(Secret::new(code)).await.unwrap_err(),
        Error::Token(_)
    ));
    // Expiry: the refresh token is used and rotated, twice.
    for _ in 0..2 {
        mock.expire_all_tokens();
        let _: Value = user.get("/v1.0/contact/users/me").send().await.unwrap();
    }
    // The exchange, the refused second exchange, and two refreshes.
    assert_eq!(mock.token_requests(), 4);
}

#[tokio::test]
async fn open_auth_answers_and_default() {
    let (_mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let req = ask("qyapi_hrm_read_user", AuthType::Application);
    for status in [
        OpenAuthStatus::Cancel,
        OpenAuthStatus::ToAdmin,
        OpenAuthStatus::Failed,
    ] {
        assert!(
            corp.record_open_auth(&req, status)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let g = corp
        .record_open_auth(&ask(".default", AuthType::Application), OpenAuthStatus::Ok)
        .await
        .unwrap();
    assert_eq!(
        g.codes().collect::<Vec<_>>(),
        ["Contact.User.Read", "qyapi_hrm_read_user"]
    );
    assert!(
        corp.record_open_auth(&ask("x_y", AuthType::Delegated), OpenAuthStatus::Ok)
            .await
            .is_err()
    );
    assert!(OpenAuthStatus::parse("maybe").is_err());
    let next = corp
        .open_auth_for(["qyapi_hrm_read_user", "snsapi_base"])
        .await
        .unwrap();
    assert_eq!(next.rpc_scope, "snsapi_base");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_callers_cause_one_token_request() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    let corp = Arc::new(corp);
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let corp = corp.clone();
        tasks.push(tokio::spawn(
            async move { page(&corp, 0).await.map(|_| ()) },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(mock.token_requests(), 1);
    assert_eq!(mock.api_requests(DISMISSIONS), 1000);
}

#[tokio::test]
async fn nothing_secret_in_debug_or_errors() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    mock.inject(Target::Token, Fault::RejectCredentials);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let err = page(&corp, 0).await.unwrap_err();
    let printed = format!("{dt:?} {corp:?} {err} {err:?}");
    for secret in [SUITE_SECRET, TICKET] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert!(printed.contains("Secret(***)"), "{printed}");
}

/// A body that cannot be written as JSON fails the call, and nothing is sent.
#[tokio::test]
async fn a_body_that_cannot_be_json_is_an_error_and_nothing_is_sent() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let path = "/v1.0/hrm/employees/dismissions/batch";
    // JSON object keys must be strings.
    let body: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1u8], 1u8)].into();
    let err = corp
        .post(path)
        .json(&body)
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(mock.api_requests(path), 0, "{err}");
    assert_eq!(mock.token_requests(), 0, "{err}");
    let cause = std::error::Error::source(&err).expect("the JSON error is kept");
    assert!(
        cause.to_string().contains("key must be a string"),
        "{cause}"
    );
}

/// A string that is not a permission code is an error, not a made-up code.
#[tokio::test]
async fn open_auth_for_refuses_what_is_not_a_code() {
    let (_mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let err = corp
        .open_auth_for(["Contact.User.Read", "Contact.User"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("\"Contact.User\""), "{err}");
    let ok = corp.open_auth_for(["Contact.User.Read"]).await.unwrap();
    assert_eq!(ok.rpc_scope, "Contact.User.Read");
}

/// `source()` adds what `Display` has not said: a denial prints everything itself.
#[tokio::test]
async fn an_errors_source_does_not_repeat_its_message() {
    let (_mock, dt) = isv().await;
    let err = page(&dt.corp(CORP), 0).await.unwrap_err();
    assert!(err.as_denied().is_some(), "{err}");
    let shown = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        assert!(!shown.contains(&s.to_string()), "{shown} repeats {s}");
        source = s.source();
    }
}

/// Store keys keep tenants apart: corp `dingA:user1` is not user `user1` of corp `dingA`,
/// and an id with a control character is refused.
#[tokio::test]
async fn ids_with_separators_share_no_grant() {
    let (_mock, dt) = isv().await;
    dt.corp("dingA:user1")
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    let user = dt.user("dingA", "user1").grant().await.unwrap();
    assert!(!user.contains("qyapi_hrm_read_user"), "{user:?}");
    dt.user("dingB:x", "y")
        .set_grant(["Contact.User.Read"])
        .await
        .unwrap();
    let other = dt.user("dingB", "x:y").grant().await.unwrap();
    assert!(!other.contains("Contact.User.Read"), "{other:?}");
    assert!(dt.corp("dingA\nuser1").grant().await.is_err());
    assert!(dt.corp("").access_token().await.is_err());
}

/// A new `authCode` (after an incremental authorization) replaces the cached user token,
/// and tokens DingTalk issued for another corp are not kept for this user.
#[tokio::test]
async fn exchange_code_keeps_the_newest_token_of_the_right_corp() {
    let (mock, dt) = isv().await;
    let user = dt.user(CORP, "union1");
    let code = mock.grant_user(CORP, "union1", ["Contact.User.Read"]);
    user.exchange_code(Secret::new(code)).await.unwrap();
    let first = user.cached_token().unwrap();
    let code = mock.grant_user(CORP, "union1", ["Contact.User.mobile"]);
    user.exchange_code(Secret::new(code)).await.unwrap();
    let second = user.cached_token().unwrap();
    assert_ne!(second, first, "the older token was kept");
    assert_eq!(user.access_token().await.unwrap(), second);
    let foreign = mock.grant_user("dingcorp2", "union9", ["Contact.User.Read"]);
    let err = user.exchange_code(Secret::new(foreign)).await.unwrap_err();
    assert!(err.to_string().contains("dingcorp2"), "{err}");
    assert_eq!(user.cached_token(), Some(second));
}

/// An authCode is bound to the user DingTalk issued it for: user A's code exchanged as
/// user B keeps nothing for B, and `sign_in` names the user by DingTalk's answer.
#[tokio::test]
async fn an_auth_code_binds_only_its_own_user() {
    let (mock, dt) = isv().await;
    let code = mock.grant_user(CORP, "union-a", ["Contact.User.Read"]);
    let b = dt.user(CORP, "union-b");
    let err = b.exchange_code(Secret::new(code)).await.unwrap_err();
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    assert_eq!(b.cached_token(), None);
    let err = b.access_token().await.unwrap_err();
    assert!(err.to_string().contains("exchange"), "{err}");
    // The page does not say who signed in: DingTalk does.
    let code = mock.grant_user(CORP, "union-a", ["Contact.User.Read", "snsapi_base"]);
    let a = dt.sign_in(CORP, Secret::new(code)).await.unwrap();
    assert_eq!(a.user_id(), Some("union-a"));
    a.refresh_user_grant().await.unwrap();
    let me: Value = a.get("/v1.0/contact/users/me").send().await.unwrap();
    assert_eq!(me["unionId"], "union-a");
    assert_eq!(b.cached_token(), None);
    // Without Contact.User.Read nobody can say whose code it is: nothing is kept.
    let code = mock.grant_user(CORP, "union-c", ["snsapi_base"]);
    let c = dt.user(CORP, "union-c");
    let err = c.exchange_code(Secret::new(code)).await.unwrap_err();
    assert!(err.to_string().contains("Contact.User.Read"), "{err}");
    assert_eq!(c.cached_token(), None);
}

/// A user whose openAuth did not grant posts `ok` anyway: DingTalk's own list of the
/// user's grant decides, and the forged codes are not added.
#[tokio::test]
async fn a_forged_delegated_ok_grants_nothing() {
    let (mock, dt) = isv().await;
    let user = dt.user(CORP, "union1");
    let code = mock.grant_user(CORP, "union1", ["Contact.User.Read", "snsapi_base"]);
    user.exchange_code(Secret::new(code)).await.unwrap();
    let request = ask("Contact.User.mobile", AuthType::Delegated);
    let answer_ok = || user.record_open_auth(&request, OpenAuthStatus::Ok);
    let g = answer_ok().await.unwrap();
    assert!(!g.contains("Contact.User.mobile"), "{g:?}");
    assert!(g.contains("snsapi_base"), "{g:?}");
    // A real grant shows up in DingTalk's list, and is kept.
    mock.grant_user(CORP, "union1", ["Contact.User.mobile"]);
    let g = answer_ok().await.unwrap();
    assert!(g.contains("Contact.User.mobile"), "{g:?}");
}

/// An application grant recorded from the front end is advisory: DingTalk's first denial
/// fails the call and takes the forged codes away again.
#[tokio::test]
async fn a_forged_application_ok_lasts_until_dingtalk_answers() {
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let g = corp
        .record_open_auth(
            &ask("qyapi_hrm_read_user", AuthType::Application),
            OpenAuthStatus::Ok,
        )
        .await
        .unwrap();
    assert!(g.contains("qyapi_hrm_read_user"));
    let err = page(&corp, 0).await.unwrap_err();
    assert!(
        matches!(denied(&err).reason(), DenyReason::Server { .. }),
        "{err}"
    );
    assert_eq!(mock.api_requests(DISMISSIONS), 1);
    assert!(!corp.grant().await.unwrap().contains("qyapi_hrm_read_user"));
}

/// Under one corp's grant, a call on behalf of another corp is refused before it is sent,
/// also for an API outside the catalog, which the pre-call check cannot judge.
#[tokio::test]
async fn a_grant_is_tied_to_its_corp() {
    let (mock, dt) = isv().await;
    mock.authorize_corp(SUITE, "dingcorp2");
    let a = dt.corp(CORP);
    let b = dt.corp("dingcorp2");
    grant(&mock, &a, &["qyapi_hrm_read_user"]).await;
    let path = "/v1.0/not/in/the/catalog";
    let err = a
        .run(async { b.get(path).send::<Value>().await })
        .await
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("another corp"), "{err}");
    assert_eq!(mock.api_requests(path), 0);
    // Under its own grant, the same call goes out.
    let _ = b
        .run(async { b.get(path).send::<Value>().await })
        .await
        .unwrap();
    assert_eq!(mock.api_requests(path), 1);
}

/// A memory store that records the keys written, and refuses to write refresh tokens
/// while `down` is set.
#[derive(Default)]
struct TestStore {
    inner: dingscope::client::MemoryStore,
    down: std::sync::atomic::AtomicBool,
    written: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl dingscope::client::Store for TestStore {
    fn get<'a>(
        &'a self,
        key: &'a str,
    ) -> dingscope::client::BoxFuture<'a, Result<Option<String>, dingscope::StoreError>> {
        self.inner.get(key)
    }
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: String,
        ttl: Option<Duration>,
    ) -> dingscope::client::BoxFuture<'a, Result<(), dingscope::StoreError>> {
        if key.starts_with("dingscope:refresh:")
            && self.down.load(std::sync::atomic::Ordering::SeqCst)
        {
            return Box::pin(async { Err(dingscope::StoreError::new("down")) });
        }
        self.written.lock().unwrap().insert(key.to_owned());
        self.inner.set(key, value, ttl)
    }
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> dingscope::client::BoxFuture<'a, Result<bool, dingscope::StoreError>> {
        self.inner.try_lock(key, owner, ttl)
    }
    fn delete_if<'a>(
        &'a self,
        key: &'a str,
        expected: &'a str,
    ) -> dingscope::client::BoxFuture<'a, Result<bool, dingscope::StoreError>> {
        self.inner.delete_if(key, expected)
    }
}

/// Refresh tokens rotate, and the one just used is spent at DingTalk: when the store
/// refuses the new one, the process keeps it, refreshes with it, and writes it back once
/// the store answers.
#[tokio::test]
async fn a_rotated_refresh_token_survives_a_store_failure() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, TICKET, CORP);
    let store = Arc::new(TestStore::default());
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(store.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    let user = dt.user(CORP, "union1");
    let code = mock.grant_user(CORP, "union1", ["Contact.User.Read", "snsapi_base"]);
    store.down.store(true, std::sync::atomic::Ordering::SeqCst);
    user.exchange_code(Secret::new(code)).await.unwrap();
    user.refresh_user_grant().await.unwrap();
    for _ in 0..2 {
        mock.expire_all_tokens();
        let _: Value = user.get("/v1.0/contact/users/me").send().await.unwrap();
    }
    store.down.store(false, std::sync::atomic::Ordering::SeqCst);
    mock.expire_all_tokens();
    let _: Value = user.get("/v1.0/contact/users/me").send().await.unwrap();
    // The store has the newest one now: another instance sharing it can refresh.
    let other = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(store.clone())
        .retry(fast_retry())
        .build()
        .unwrap();
    mock.expire_all_tokens();
    let other = other.user(CORP, "union1");
    other.refresh_user_grant().await.unwrap();
    let _: Value = other.get("/v1.0/contact/users/me").send().await.unwrap();
}

/// A delayed push of an older suite ticket, after a newer one, changes nothing.
#[tokio::test]
async fn an_older_suite_ticket_is_ignored() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, "ticket-new", CORP);
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .retry(fast_retry())
        .build()
        .unwrap();
    let now = std::time::SystemTime::now();
    assert!(
        dt.set_suite_ticket_pushed_at(Secret::new("ticket-new"), now)
            .await
            .unwrap()
    );
    assert!(
        !dt.set_suite_ticket_pushed_at(Secret::new("ticket-old"), now - Duration::from_secs(30))
            .await
            .unwrap()
    );
    let corp = dt.corp(CORP);
    grant(&mock, &corp, &["qyapi_hrm_read_user"]).await;
    page(&corp, 0).await.unwrap();
}

/// Two deployments of one app share a store under two key prefixes: every key each
/// writes starts with its prefix, and neither sees the other's grant or token.
#[tokio::test]
async fn key_prefixes_keep_deployments_apart() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, TICKET, CORP);
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    let store = Arc::new(TestStore::default());
    let deployment = |prefix: &str| {
        DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
            .api_base(mock.base_url())
            .store(store.clone())
            .key_prefix(prefix)
            .retry(fast_retry())
            .build()
            .unwrap()
    };
    let (staging, prod) = (deployment("staging"), deployment("prod"));
    staging.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    let corp = staging.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    page(&corp, 0).await.unwrap();
    assert!(prod.corp(CORP).grant().await.unwrap().is_empty());
    assert!(
        prod.corp(CORP).access_token().await.is_err(),
        "prod has no ticket"
    );
    let written = store.written.lock().unwrap().clone();
    assert!(written.len() >= 3, "{written:?}");
    assert!(
        written.iter().all(|k| k.starts_with("staging:dingscope:")),
        "{written:?}"
    );
    let bad = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .key_prefix("bad prefix")
        .build();
    assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
}

/// The edges a new user meets: one `?` for an annotated call under a principal's grant
/// (`call`), an admin's answer recorded from codes (`record_answer`), and the old API's
/// `result` read directly (`send_result`).
#[tokio::test]
async fn call_record_answer_and_send_result() {
    #[dingscope::requires_scope("qyapi_hrm_read_user")]
    async fn leavers(corp: &Principal) -> Result<Value, Error> {
        corp.post("/topapi/smartwork/hrm/employee/querydimission")
            .json(&serde_json::json!({"offset": 0, "size": 5}))
            .send_result()
            .await
    }
    let (mock, dt) = isv().await;
    let corp = dt.corp(CORP);
    let denied = corp.call(leavers(&corp)).await.unwrap_err();
    assert!(denied.as_denied().is_some(), "{denied:?}");
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    let g = corp
        .record_answer(["qyapi_hrm_read_user"], OpenAuthStatus::Ok)
        .await
        .unwrap();
    assert!(g.contains("qyapi_hrm_read_user"));
    let result = corp.call(leavers(&corp)).await.unwrap();
    assert_eq!(result["data_list"].as_array().unwrap().len(), 5, "{result}");
    assert!(
        result.get("errcode").is_none(),
        "the result, not the whole body"
    );
    assert!(
        corp.record_answer(["not a code"], OpenAuthStatus::Ok)
            .await
            .is_err()
    );
}

/// What a page posts after openAuth, read as JSON and recorded in one call: type 1 for the
/// corp; type 0 with its `authCode`, exchanged and bound to the signed-in user first.
#[tokio::test]
async fn a_page_answer_is_recorded_with_its_auth_code() {
    use dingscope::wire::OpenAuthAnswer;
    let (mock, dt) = isv().await;
    let answer = |json: String| serde_json::from_str::<OpenAuthAnswer>(&json).unwrap();
    // Type 1: the corp's advisory grant.
    let corp = dt.corp(CORP);
    let g = corp
        .record(&answer(
            r#"{"status":"ok","request":{"rpcScope":"qyapi_hrm_read_user","fieldScope":"","type":1}}"#.into(),
        ))
        .await
        .unwrap();
    assert!(g.contains("qyapi_hrm_read_user"), "{g:?}");
    // Type 0 without snsapi_base: the user's grant cannot be read back, but DingTalk
    // accepted a fresh code for this very user, so the requested codes are kept.
    let user = dt.user(CORP, "union-a");
    let code = mock.grant_user(
        CORP,
        "union-a",
        ["Contact.User.Read", "Contact.User.mobile"],
    );
    let ok = |code: &str| {
        answer(format!(
            r#"{{"status":"ok","request":{{"rpcScope":"Contact.User.Read","fieldScope":"Contact.User.mobile","type":0}},"authCode":"{code}"}}"#
        ))
    };
    let g = user.record(&ok(&code)).await.unwrap();
    assert!(
        g.contains("Contact.User.Read") && g.contains("Contact.User.mobile"),
        "{g:?}"
    );
    assert!(user.cached_token().is_some());
    // Another user's code binds nothing and grants nothing.
    let other = dt.user(CORP, "union-b");
    let code_of_a = mock.grant_user(CORP, "union-a", ["Contact.User.Read"]);
    let err = other.record(&ok(&code_of_a)).await.unwrap_err();
    assert!(matches!(err, Error::Mismatch(_)), "{err:?}");
    assert!(other.grant().await.unwrap().is_empty());
    assert_eq!(other.cached_token(), None);
    // With snsapi_base, DingTalk's own list decides: a code forged into the request is
    // not kept.
    let user_c = dt.user(CORP, "union-c");
    let code = mock.grant_user(CORP, "union-c", ["Contact.User.Read", "snsapi_base"]);
    let g = user_c.record(&ok(&code)).await.unwrap();
    assert!(g.contains("Contact.User.Read"), "{g:?}");
    assert!(!g.contains("Contact.User.mobile"), "{g:?}");
    // No authCode: the rules of record_open_auth, and nothing unconfirmed is kept.
    let user_d = dt.user(CORP, "union-d");
    let err = user_d
        .record(&answer(
            r#"{"status":"ok","request":{"rpcScope":"Contact.User.Read","type":0}}"#.into(),
        ))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exchange"), "{err}");
    assert!(user_d.grant().await.unwrap().is_empty());
}

/// A list in pages read as one stream of items, in both of DingTalk's forms: the new API's
/// `nextToken`/`hasMore` (cursor in the query) and the old API's `offset`/`next_cursor`
/// (cursor in the JSON body). One request per page, and none after the last.
#[tokio::test]
async fn pages_read_as_one_stream() {
    use dingscope::client::Paging;
    let (mock, dt) = isv().await;
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    let corp = dt.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let ids: Vec<String> = corp
        .get(DISMISSIONS)
        .query("maxResults", 50)
        .pages(Paging::next_token("userIdList"))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids.len(), 120);
    assert_eq!((ids[0].as_str(), ids[119].as_str()), ("user001", "user120"));
    assert_eq!(mock.api_requests(DISMISSIONS), 3);
    let old = "/topapi/smartwork/hrm/employee/querydimission";
    let mut pages = corp
        .post(old)
        .json(&serde_json::json!({"size": 50}))
        .pages::<String>(Paging::next_cursor("result.data_list"));
    let mut seen = Vec::new();
    while let Some(id) = pages.next_item().await {
        seen.push(id.unwrap());
    }
    assert_eq!(seen, ids);
    assert_eq!(mock.api_requests(old), 3);
    // An item of the wrong type is a protocol error, and the stream ends there.
    let mut wrong = corp
        .get(DISMISSIONS)
        .query("maxResults", 50)
        .pages::<u64>(Paging::next_token("userIdList"));
    let e = wrong.next_item().await.unwrap().unwrap_err();
    assert!(matches!(e, Error::Protocol(_)), "{e:?}");
    assert!(wrong.next_item().await.is_none());
    // A denial is the stream's one item, and nothing is sent.
    let before = mock.all_api_requests();
    let other = dt.corp("dingcorp-other");
    let e = other
        .get(DISMISSIONS)
        .pages::<String>(Paging::next_token("userIdList"))
        .collect_all()
        .await
        .unwrap_err();
    assert!(e.as_denied().is_some(), "{e:?}");
    assert_eq!(mock.all_api_requests(), before);
}

/// What the compile-time endpoint check says of `any(...)` (tests/ui/fail/endpoint-any-not-covered),
/// the client does at run time: a grant of an alternative the API does not accept passes the
/// function's check, and the call is denied before it is sent, asking for what the API accepts.
#[tokio::test]
async fn an_alternative_the_api_does_not_accept_is_denied_before_sending() {
    #[requires_scope(
        any("qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"),
        endpoint_check = false
    )]
    async fn either(corp: &Principal) -> Result<Value, Error> {
        corp.get("/v1.0/hrm/employees/dismissions")
            .query("maxResults", 50)
            .send()
            .await
    }
    let (mock, dt) = isv().await;
    mock.grant_corp(CORP, ["qyapi_hrm_read_user", "Pro.HrmDismission.ReadWrite"]);
    let corp = dt.corp(CORP);
    corp.set_grant(["Pro.HrmDismission.ReadWrite"])
        .await
        .unwrap();
    let e = corp.call(either(&corp)).await.unwrap_err();
    let d = e.as_denied().expect("a denial");
    assert!(
        matches!(d.reason(), DenyReason::NotGranted { .. }),
        "{:?}",
        d.reason()
    );
    assert_eq!(d.open_auth().rpc_scope, "qyapi_hrm_read_user");
    assert_eq!(mock.api_requests(DISMISSIONS), 0);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    corp.call(either(&corp)).await.unwrap();
    assert_eq!(mock.api_requests(DISMISSIONS), 1);
}
