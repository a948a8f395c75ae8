//! SyncHTTP pushes through `CallbackHandler`, encrypted as DingTalk does: the URL check,
//! a suite ticket and a corp authorizing, applied to the client; the encrypted `success`;
//! replays and bad requests refused with typed errors.

use dingscope::Secret;
use dingscope::client::callback::{CallbackCrypto, CallbackError, CallbackHandler};
use dingscope::client::{App, DingTalk};
use dingscope_mock::MockDingTalk;
use serde_json::{Value, json};

const SUITE: &str = "suite-key";
const KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";

fn crypto() -> CallbackCrypto {
    CallbackCrypto::new(Secret::new("token-1"), &Secret::new(KEY), SUITE).unwrap()
}

/// A POST as DingTalk sends it: the query and the body.
fn push(payload: &Value, nonce: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let c = crypto();
    let encrypt = c.encrypt(&payload.to_string());
    let ts = "1700000000000";
    let query = vec![
        ("msg_signature".to_owned(), c.signature(ts, nonce, &encrypt)),
        ("timestamp".to_owned(), ts.to_owned()),
        ("nonce".to_owned(), nonce.to_owned()),
    ];
    (query, json!({"encrypt": encrypt}).to_string().into_bytes())
}

fn is_success(reply: &str, nonce: &str) {
    let r: Value = serde_json::from_str(reply).unwrap();
    let c = crypto();
    let encrypt = r["encrypt"].as_str().unwrap();
    c.verify(
        r["msg_signature"].as_str().unwrap(),
        r["timeStamp"].as_str().unwrap(),
        nonce,
        encrypt,
    )
    .unwrap();
    assert_eq!(r["nonce"], nonce);
    assert_eq!(c.decrypt(encrypt).unwrap(), "success");
}

#[tokio::test]
async fn sync_http_pushes_are_verified_applied_and_answered() {
    let mock = MockDingTalk::start().await.unwrap();
    mock.add_suite(SUITE, "suite-secret");
    mock.authorize_corp(SUITE, "dingA");
    mock.grant_corp("dingA", ["qyapi_hrm_read_user"]);
    mock.push_suite_ticket(SUITE, "ticket-http");
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new("suite-secret")))
        .api_base(mock.base_url())
        .build()
        .unwrap();
    let handler = CallbackHandler::new(dt.clone(), crypto());

    let (q, b) = push(&json!({"EventType": "check_url"}), "n1");
    is_success(&handler.handle(&q, &b).await.unwrap(), "n1");

    let rows = json!({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [
        {"biz_type": 2, "biz_id": SUITE, "corp_id": "dingsuite", "gmt_modified": 1_700_000_000_000u64,
         "biz_data": json!({"syncAction": "suite_ticket", "suiteTicket": "ticket-http", "syncSeq": "1"}).to_string()},
        {"biz_type": 4, "corp_id": "dingA",
         "biz_data": json!({"syncAction": "org_suite_auth", "auth_corp_info": {"corpid": "dingA", "corp_name": "A"}}).to_string()},
    ]});
    let (q, b) = push(&rows, "n2");
    is_success(&handler.handle(&q, &b).await.unwrap(), "n2");
    assert_eq!(dt.corp_info("dingA").await.unwrap().unwrap().corp_name, "A");
    dt.corp("dingA").access_token().await.unwrap();

    // The same push again: a replay.
    assert_eq!(
        handler.handle(&q, &b).await.unwrap_err(),
        CallbackError::Replay
    );
    // Tampered signature, missing parameters, a body that is not JSON, one too large.
    let (mut q, b) = push(&json!({"EventType": "check_url"}), "n3");
    q[0].1 = "0".repeat(40);
    assert_eq!(
        handler.handle(&q, &b).await.unwrap_err(),
        CallbackError::BadSignature
    );
    assert_eq!(
        handler.handle(&q[1..], &b).await.unwrap_err(),
        CallbackError::Missing("msg_signature")
    );
    let (q, _) = push(&json!({"EventType": "check_url"}), "n4");
    assert!(matches!(
        handler.handle(&q, b"not json").await.unwrap_err(),
        CallbackError::BadJson(_)
    ));
    let huge = vec![b' '; dingscope::client::callback::MAX_BODY + 1];
    assert_eq!(
        handler.handle(&q, &huge).await.unwrap_err(),
        CallbackError::TooLarge
    );
    // Another app's message.
    let other =
        CallbackCrypto::new(Secret::new("token-1"), &Secret::new(KEY), "other-suite").unwrap();
    let encrypt = other.encrypt(r#"{"EventType":"check_url"}"#);
    let q = vec![
        ("signature".to_owned(), other.signature("1", "n5", &encrypt)),
        ("timeStamp".to_owned(), "1".to_owned()),
        ("nonce".to_owned(), "n5".to_owned()),
    ];
    let b = json!({"encrypt": encrypt}).to_string().into_bytes();
    assert_eq!(
        handler.handle(&q, &b).await.unwrap_err(),
        CallbackError::WrongOwner
    );
}

/// The mock pushes SyncHTTP to an axum app: the first answer is a failure (the app's
/// handler errs), so the mock pushes again after the (shortened) pause, and the second is
/// the encrypted `success`; the ticket and the corp are applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mock_pushes_sync_http_until_answered() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use dingscope_mock::sync_http;

    let mock = MockDingTalk::start().await.unwrap();
    mock.add_suite(SUITE, "suite-secret");
    mock.authorize_corp(SUITE, "dingB");
    mock.push_suite_ticket(SUITE, "ticket-pushed");
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new("suite-secret")))
        .api_base(mock.base_url())
        .build()
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handler = CallbackHandler::new(dt.clone(), crypto()).on_event(move |_| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err("not yet".into())
            } else {
                Ok(())
            }
        }
    });
    let app = axum::Router::new().route("/cb", dingscope::client::callback::route(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let payload = sync_http::payload(&[
        (
            2,
            "dingsuite",
            json!({"syncAction": "suite_ticket", "suiteTicket": "ticket-pushed", "syncSeq": "7"}),
        ),
        (
            4,
            "dingB",
            json!({"syncAction": "org_suite_auth", "auth_corp_info": {"corpid": "dingB", "corp_name": "B"}}),
        ),
    ]);
    let pauses = [Duration::from_millis(100), Duration::from_millis(300)];
    let outcome = sync_http::push(&url, &crypto(), &payload, &pauses).await;
    assert_eq!(
        outcome,
        sync_http::PushOutcome {
            attempts: 2,
            success: true
        }
    );
    assert_eq!(dt.corp_info("dingB").await.unwrap().unwrap().corp_name, "B");
    dt.corp("dingB").access_token().await.unwrap();
    // An app that never answers success: pushed three times in all.
    let nowhere = "http://127.0.0.1:9/cb";
    let outcome = sync_http::push(nowhere, &crypto(), &payload, &pauses).await;
    assert_eq!(
        outcome,
        sync_http::PushOutcome {
            attempts: 3,
            success: false
        }
    );
}
