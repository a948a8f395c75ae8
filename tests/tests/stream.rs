//! Stream mode against the mock's gateway: the suite ticket, corps authorizing and
//! removing the app, pings, repeats, failing handlers, reconnects, bad frames, and one
//! connection across a fleet.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dingscope::client::stream::{Connection, StreamHandle};
use dingscope::client::{App, DingTalk, Event, MemoryStore, Retry, Store};
use dingscope::{Error, Secret};
use dingscope_mock::MockDingTalk;
use serde_json::{Value, json};

const SUITE: &str = "suite-key";
const SUITE_SECRET: &str = "suite-secret-stream";
const CORP: &str = "dingcorp1";
const DISMISSIONS: &str = "/v1.0/hrm/employees/dismissions";

async fn mock() -> MockDingTalk {
    let mock = MockDingTalk::start().await.unwrap();
    mock.add_suite(SUITE, SUITE_SECRET);
    mock.authorize_corp(SUITE, CORP);
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    mock
}

fn client(mock: &MockDingTalk, store: Arc<dyn Store>) -> DingTalk {
    DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(store)
        .timeout(Duration::from_millis(500))
        .retry(Retry {
            attempts: 2,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

fn start(dt: &DingTalk, handled: Arc<AtomicUsize>) -> StreamHandle {
    dt.stream()
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .lease(Duration::from_millis(600))
        .on_event(move |e: Event| {
            let handled = handled.clone();
            async move {
                if let Event::Other(raw) = &e
                    && raw.event_type == "fail_me"
                {
                    return Err("the handler failed".into());
                }
                handled.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .start()
}

async fn connected(mock: &MockDingTalk, stream: &StreamHandle) {
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.wait_for(|s| s.connection == Connection::Connected),
    )
    .await
    .expect("connected within 10 s");
    assert!(
        mock.stream_connected().await,
        "the gateway has the connection"
    );
}

/// Waits until the mock has an acknowledgement of `id`; answers it.
async fn ack_of(mock: &MockDingTalk, id: &str) -> Value {
    for _ in 0..500 {
        if let Some(a) = mock
            .stream_acks()
            .into_iter()
            .rev()
            .find(|a| a["headers"]["messageId"] == id)
        {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no acknowledgement of {id}: {:?}", mock.stream_acks());
}

/// Waits (up to 10 s) until `f` holds.
async fn eventually(what: &str, f: impl Fn() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not within 10 s: {what}");
}

fn status(ack: &Value) -> String {
    let data: Value = serde_json::from_str(ack["data"].as_str().unwrap()).unwrap();
    data["status"].as_str().unwrap_or_default().to_owned()
}

async fn call(dt: &DingTalk) -> Result<Value, Error> {
    dt.corp(CORP)
        .get(DISMISSIONS)
        .query("maxResults", 10)
        .send()
        .await
}

/// The suite ticket arrives by a push, and the next token request uses it: nothing is
/// set by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_ticket_arrives_by_stream() {
    let mock = mock().await;
    let dt = client(&mock, Arc::new(MemoryStore::new()));
    dt.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    assert!(call(&dt).await.is_err(), "no ticket yet");
    let stream = start(&dt, Arc::default());
    connected(&mock, &stream).await;
    let id = mock.stream_suite_ticket(SUITE, "ticket-by-stream").unwrap();
    let ack = ack_of(&mock, &id).await;
    assert_eq!(
        (ack["code"].as_i64(), status(&ack).as_str()),
        (Some(200), "SUCCESS")
    );
    call(&dt).await.unwrap();
    // A ping is answered with its own messageId.
    let ping = mock.stream_ping();
    assert_eq!(ack_of(&mock, &ping).await["code"], 200);
    stream.shutdown().await;
}

/// A corp authorizes (the registry has it), stops and restores the app (calls refused,
/// then sent), and removes it (purged, and refused before sending).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corps_authorize_stop_restore_and_remove() {
    let mock = mock().await;
    let dt = client(&mock, Arc::new(MemoryStore::new()));
    let stream = start(&dt, Arc::default());
    connected(&mock, &stream).await;
    mock.stream_suite_ticket(SUITE, "t1").unwrap();
    let auth = json!({
        "authCorpInfo": {"corpId": CORP, "corpName": "甲公司"},
        "authInfo": {"agent": [{"agentId": 42}]},
        "authUserInfo": {"userId": "admin1"},
    });
    let id = mock
        .stream_push("org_suite_auth", Some(CORP), auth)
        .unwrap();
    ack_of(&mock, &id).await;
    let info = dt.corp_info(CORP).await.unwrap().expect("in the registry");
    assert_eq!(
        (info.corp_name.as_str(), info.agent_ids.as_slice()),
        ("甲公司", &[42][..])
    );
    dt.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&dt).await.unwrap();

    let id = mock
        .stream_push("org_micro_app_stop", Some(CORP), json!({}))
        .unwrap();
    ack_of(&mock, &id).await;
    let before = mock.api_requests(DISMISSIONS);
    assert!(matches!(call(&dt).await, Err(Error::AppStopped(_))));
    let id = mock
        .stream_push("org_micro_app_restore", Some(CORP), json!({}))
        .unwrap();
    ack_of(&mock, &id).await;
    call(&dt).await.unwrap();
    assert_eq!(mock.api_requests(DISMISSIONS), before + 1);

    let id = mock
        .stream_push("org_suite_relieve", Some(CORP), json!({}))
        .unwrap();
    ack_of(&mock, &id).await;
    assert_eq!(dt.corp_info(CORP).await.unwrap(), None);
    assert!(
        dt.corp(CORP).grant().await.unwrap().is_empty(),
        "the grant is purged"
    );
    assert!(
        dt.corp(CORP).cached_token().is_none(),
        "the token is purged"
    );
    assert!(matches!(call(&dt).await, Err(Error::AppStopped(_))));
    assert_eq!(mock.api_requests(DISMISSIONS), before + 1, "nothing sent");
    stream.shutdown().await;
}

/// A repeated messageId is acknowledged again but handled once; a failing handler acks
/// `LATER`, and its redelivery is handled again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_are_handled_once_and_failures_are_redelivered() {
    let mock = mock().await;
    let dt = client(&mock, Arc::new(MemoryStore::new()));
    let handled = Arc::new(AtomicUsize::new(0));
    let stream = start(&dt, handled.clone());
    connected(&mock, &stream).await;
    let id = mock
        .stream_push("user_add_org", Some(CORP), json!({"userId": ["u1"]}))
        .unwrap();
    ack_of(&mock, &id).await;
    assert!(mock.stream_repeat(&id));
    tokio::time::timeout(Duration::from_secs(5), async {
        while mock
            .stream_acks()
            .iter()
            .filter(|a| a["headers"]["messageId"] == id)
            .count()
            < 2
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    let failing = mock.stream_push("fail_me", Some(CORP), json!({})).unwrap();
    assert_eq!(status(&ack_of(&mock, &failing).await), "LATER");
    stream.shutdown().await;
}

/// `disconnect`, a dropped socket and frames that are not DingTalk's: the client
/// reconnects, skips the bad frames, and still handles the next event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_reconnects_and_skips_bad_frames() {
    let mock = mock().await;
    let dt = client(&mock, Arc::new(MemoryStore::new()));
    let handled = Arc::new(AtomicUsize::new(0));
    let stream = start(&dt, handled.clone());
    connected(&mock, &stream).await;
    for bad in [
        "not json",
        "{}",
        "[1,2]",
        r#"{"type":"EVENT","headers":{},"data":"{}"}"#,
        r#"{"type":"EVENT","headers":{"messageId":"x1","eventType":"suite_ticket"},"data":"not json"}"#,
        r#"{"type":"EVENT","headers":{"messageId":"x2","eventType":"org_suite_relieve"},"data":"{}"}"#,
    ] {
        assert_eq!(mock.stream_send_raw(bad), 1);
    }
    let big = format!(
        r#"{{"type":"EVENT","headers":{{"messageId":"x3"}},"data":"{}"}}"#,
        "a".repeat(2 << 20)
    );
    mock.stream_send_raw(&big);
    // The frame over 1 MiB ends that connection; the client connects again.
    eventually("a second connection", || mock.stream_opens() >= 2).await;
    connected(&mock, &stream).await;
    mock.stream_disconnect();
    eventually("a third connection", || {
        mock.stream_opens() >= 3 && mock.stream_connections() > 0
    })
    .await;
    mock.stream_drop();
    eventually("a fourth connection", || {
        mock.stream_opens() >= 4 && mock.stream_connections() > 0
    })
    .await;
    connected(&mock, &stream).await;
    let id = loop {
        if let Some(id) = mock.stream_push("user_add_org", Some(CORP), json!({})) {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(status(&ack_of(&mock, &id).await), "SUCCESS");
    assert_eq!(handled.load(Ordering::SeqCst), 1);
    stream.shutdown().await;
}

/// Refused credentials and a gateway that never answers: the client backs off and keeps
/// trying, and connects once the gateway works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_and_a_silent_gateway_back_off() {
    let mock = mock().await;
    let dt = client(&mock, Arc::new(MemoryStore::new()));
    mock.stream_refuse_credentials(true);
    let stream = start(&dt, Arc::default());
    let s = tokio::time::timeout(
        Duration::from_secs(10),
        stream.wait_for(|s| matches!(s.connection, Connection::Reconnecting { attempt: 3.., .. })),
    )
    .await
    .unwrap();
    assert!(format!("{s:?}").contains("refused"), "{s:?}");
    assert!(!format!("{s:?}").contains(SUITE_SECRET));
    mock.stream_hang(true);
    mock.stream_refuse_credentials(false);
    let opens = mock.stream_opens();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_ne!(stream.state().connection, Connection::Connected);
    assert_eq!(mock.stream_opens(), opens, "the gateway answered nothing");
    mock.stream_hang(false);
    connected(&mock, &stream).await;
    stream.shutdown().await;
}

/// Two instances share a store: one holds the connection, the other stands by and takes
/// over within the lease's lifetime once the holder dies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_across_a_fleet() {
    let mock = mock().await;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = start(&client(&mock, store.clone()), Arc::default());
    connected(&mock, &a).await;
    let b = start(&client(&mock, store.clone()), Arc::default());
    tokio::time::timeout(
        Duration::from_secs(5),
        b.wait_for(|s| s.connection == Connection::Standby),
    )
    .await
    .unwrap();
    assert_eq!(mock.stream_connections(), 1);
    let killed = std::time::Instant::now();
    a.abort();
    connected(&mock, &b).await;
    assert!(
        killed.elapsed() < Duration::from_secs(3),
        "{:?}",
        killed.elapsed()
    );
    b.shutdown().await;
}
