//! The Redis store against a real `redis-server` on 127.0.0.1, started by the test. Without
//! one installed, each test says so and is skipped; everything else still runs.

use std::sync::Arc;
use std::time::Duration;

use dingscope::client::{App, DingTalk, RedisStore, Retry, Store};
use dingscope::{Error, Secret};
use dingscope_mock::MockDingTalk;
use dingscope_tests::redis_or_skip;
use serde_json::Value;

const SUITE: &str = "suite-key";
const SUITE_SECRET: &str = "suite-secret-redis";
const CORP: &str = "dingcorp1";
const DISMISSIONS: &str = "/v1.0/hrm/employees/dismissions";

async fn mock() -> MockDingTalk {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, "ticket-1", CORP);
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    mock
}

/// One "process": its own client and caches, sharing the Redis store.
fn instance(mock: &MockDingTalk, redis: &str) -> DingTalk {
    DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(Arc::new(RedisStore::open(redis).unwrap()))
        .retry(Retry {
            attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

async fn call(dt: &DingTalk) -> Result<Value, Error> {
    dt.corp(CORP)
        .get(DISMISSIONS)
        .query("maxResults", 10)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_token_per_expiry() {
    let server = redis_or_skip!();
    let mock = mock().await;
    let a = instance(&mock, &server.url());
    let b = instance(&mock, &server.url());
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    a.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    b.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    for round in 1..=3u64 {
        let mut tasks = Vec::new();
        for i in 0..200 {
            let dt = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move { call(&dt).await.map(|_| ()) }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(mock.token_requests(), round, "one token request per expiry");
        mock.expire_all_tokens();
    }
}

#[tokio::test]
async fn the_suite_ticket_is_shared_replaced_and_never_expires() {
    let server = redis_or_skip!();
    let mock = mock().await;
    let a = instance(&mock, &server.url());
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    // Another instance, which never saw the push, uses the stored ticket.
    let b = instance(&mock, &server.url());
    b.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&b).await.unwrap();
    // A newer push replaces the older ticket everywhere.
    mock.push_suite_ticket(SUITE, "ticket-2");
    b.set_suite_ticket(Secret::new("ticket-2")).await.unwrap();
    let c = instance(&mock, &server.url());
    c.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    mock.expire_all_tokens();
    call(&c).await.unwrap();
    let raw = RedisStore::open(&server.url()).unwrap();
    assert_eq!(
        raw.get("dingscope:ticket:suite-key")
            .await
            .unwrap()
            .and_then(|v| v.split_once(':').map(|(_, t)| t.to_owned()))
            .as_deref(),
        Some("ticket-2")
    );
    let client = redis_raw_pttl(&server.url(), "dingscope:ticket:suite-key").await;
    assert_eq!(client, -1, "the ticket has no expiry of its own");
}

async fn redis_raw_pttl(url: &str, key: &str) -> i64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cmd = format!("*2\r\n$4\r\nPTTL\r\n${}\r\n{key}\r\n", key.len());
    s.write_all(cmd.as_bytes()).await.unwrap();
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).await.unwrap();
    let reply = std::str::from_utf8(&buf[..n]).unwrap();
    reply.trim_start_matches(':').trim().parse().unwrap()
}

#[tokio::test]
async fn locks_belong_to_their_holder_and_expire() {
    let server = redis_or_skip!();
    let s = RedisStore::open(&server.url()).unwrap();
    assert!(
        s.try_lock("l", "a", Duration::from_millis(200))
            .await
            .unwrap()
    );
    assert!(
        !s.try_lock("l", "b", Duration::from_millis(200))
            .await
            .unwrap()
    );
    s.unlock("l", "b").await.unwrap();
    assert!(
        !s.try_lock("l", "b", Duration::from_millis(200))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.try_lock("l", "b", Duration::from_secs(5)).await.unwrap(),
        "a crashed holder's lock expires"
    );
    s.unlock("l", "b").await.unwrap();
    assert!(s.try_lock("l", "a", Duration::from_secs(5)).await.unwrap());
    // Only the holder extends its lock.
    assert!(
        !s.extend_lock("l", "b", Duration::from_secs(60))
            .await
            .unwrap()
    );
    assert!(
        s.extend_lock("l", "a", Duration::from_secs(60))
            .await
            .unwrap()
    );
    let ttl = redis_raw_pttl(&server.url(), "l").await;
    assert!(ttl > 5_000 && ttl <= 60_000, "{ttl}");
    // Only a greater value replaces the one held.
    assert!(s.set_if_greater("t", "0002:b".into()).await.unwrap());
    assert!(!s.set_if_greater("t", "0001:z".into()).await.unwrap());
    assert!(!s.set_if_greater("t", "0002:b".into()).await.unwrap());
    assert!(s.set_if_greater("t", "0002:c".into()).await.unwrap());
    assert_eq!(s.get("t").await.unwrap().as_deref(), Some("0002:c"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_keep_working_while_redis_is_down() {
    let mut server = redis_or_skip!();
    let mock = mock().await;
    let dt = instance(&mock, &server.url());
    dt.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    dt.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&dt).await.unwrap();
    server.stop();
    // The in-process layer carries on: cached token and grant, then a new token with the
    // ticket this process kept.
    call(&dt).await.unwrap();
    mock.expire_all_tokens();
    call(&dt).await.unwrap();
    // A ticket pushed while Redis is down is kept, and written once Redis is back.
    mock.push_suite_ticket(SUITE, "ticket-2");
    dt.set_suite_ticket(Secret::new("ticket-2")).await.unwrap();
    server.restart().unwrap();
    mock.expire_all_tokens();
    call(&dt).await.unwrap();
    let raw = RedisStore::open(&server.url()).unwrap();
    let mut stored = None;
    for _ in 0..50 {
        stored = raw.get("dingscope:ticket:suite-key").await.ok().flatten();
        if stored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        stored
            .as_deref()
            .and_then(|v| v.split_once(':'))
            .map(|(_, t)| t),
        Some("ticket-2")
    );
}

/// A store error keeps Redis's own error as its cause, typed, and does not print it twice.
#[tokio::test]
async fn a_store_error_keeps_its_cause() {
    // Nothing listens on port 1.
    let store = RedisStore::open("redis://127.0.0.1:1/").unwrap();
    let err = store.get("k").await.unwrap_err();
    let cause = std::error::Error::source(&err).expect("the cause is kept");
    assert!(cause.is::<redis::RedisError>(), "{cause:?}");
    assert!(!err.to_string().contains(&cause.to_string()), "{err}");
}

/// Opening a store needs no Tokio runtime: it connects on first use, inside one.
#[test]
fn a_store_opens_outside_a_runtime() {
    let store = RedisStore::open("redis://127.0.0.1:1/").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert!(rt.block_on(store.get("k")).is_err());
}

/// DingTalk pushes each ticket again after 10 and 30 s: a delayed push of an older ticket,
/// reaching another instance after a newer one was stored, changes nothing.
#[tokio::test]
async fn an_older_suite_ticket_never_replaces_a_newer_one() {
    let server = redis_or_skip!();
    let mock = mock().await;
    mock.push_suite_ticket(SUITE, "ticket-2");
    let pushed = std::time::SystemTime::now();
    let a = instance(&mock, &server.url());
    assert!(
        a.set_suite_ticket_pushed_at(Secret::new("ticket-2"), pushed)
            .await
            .unwrap()
    );
    let b = instance(&mock, &server.url());
    let older = pushed - Duration::from_secs(5 * 3600);
    assert!(
        !b.set_suite_ticket_pushed_at(Secret::new("ticket-1"), older)
            .await
            .unwrap()
    );
    b.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&b).await.unwrap();
}

/// Two instances record openAuth answers for one corp at once, each for its own codes,
/// while a third records DingTalk's denial of a code both had: every update lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_on_a_grant_lose_no_update() {
    use dingscope::{AuthType, OpenAuthRequest, OpenAuthStatus, Scope};
    let server = redis_or_skip!();
    let mock = mock().await;
    let a = instance(&mock, &server.url());
    let b = instance(&mock, &server.url());
    let codes: Vec<&'static str> = dingscope::catalog::SCOPES
        .iter()
        .filter(|s| s.code.starts_with("qyapi_") && s.code != "qyapi_hrm_read_user")
        .map(|s| s.code)
        .take(40)
        .collect();
    assert_eq!(codes.len(), 40);
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    a.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for (i, &code) in codes.iter().enumerate() {
        let dt = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let ask =
                OpenAuthRequest::for_codes(AuthType::Application, &[Scope::parse(code).unwrap()]);
            dt.corp(CORP)
                .record_open_auth(&ask, OpenAuthStatus::Ok)
                .await
                .map(|_| ())
        }));
    }
    // Meanwhile DingTalk denies the dismissions API to instance B: its code goes.
    mock.revoke_corp(CORP, &["qyapi_hrm_read_user"]);
    let denied = call(&b).await.unwrap_err();
    assert!(denied.as_denied().is_some(), "{denied:?}");
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let c = instance(&mock, &server.url());
    let g = c.corp(CORP).grant().await.unwrap();
    let lost: Vec<&&str> = codes.iter().filter(|c| !g.contains(c)).collect();
    assert!(lost.is_empty(), "updates lost: {lost:?}");
    assert!(!g.contains("qyapi_hrm_read_user"), "the denial was lost");
}

/// `rediss://`: the store over TLS, the server verified against the CA that signed its
/// certificate; a client that trusts only the platform's roots refuses the server.
#[tokio::test]
async fn rediss_connects_over_tls_and_verifies_the_server() {
    let (server, ca) =
        dingscope_tests::started_or_skip!(dingscope_tests::RedisServer::start_tls(), "Redis TLS");
    let mock = mock().await;
    let store = RedisStore::open_with_root_ca(&server.tls_url(), &ca).unwrap();
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(Arc::new(store.clone()))
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    dt.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&dt).await.unwrap();
    let keys_written = store
        .get("dingscope:grant:suite-key:dingcorp1")
        .await
        .unwrap();
    assert!(keys_written.is_some_and(|g| g.contains("qyapi_hrm_read_user")));
    // The platform's roots do not hold the test CA: the handshake fails.
    let untrusted = RedisStore::open(&server.tls_url()).unwrap();
    assert!(untrusted.get("any").await.is_err());
}

/// With a store key, no token, refresh token or ticket is readable in Redis; an instance
/// with the same key shares them, one with another key reads none of them.
#[tokio::test]
async fn sealed_secrets_are_unreadable_in_redis() {
    use dingscope::client::StoreKey;
    let server = redis_or_skip!();
    let mock = mock().await;
    let sealed = |key: [u8; 32]| {
        DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
            .api_base(mock.base_url())
            .store(Arc::new(RedisStore::open(&server.url()).unwrap()))
            .store_key(StoreKey::from_bytes(key))
            .build()
            .unwrap()
    };
    let a = sealed([1; 32]);
    a.set_suite_ticket(Secret::new("ticket-1")).await.unwrap();
    a.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&a).await.unwrap();
    let code = mock.grant_user(CORP, "union-1", ["Contact.User.Read", "snsapi_base"]);
    let user = a.user(CORP, "union-1");
    user.exchange_code(Secret::new(code)).await.unwrap();
    mock.expire_all_tokens();
    user.refresh_user_grant().await.unwrap();
    call(&a).await.unwrap();
    // Every value in Redis, read raw.
    let client = redis::Client::open(server.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut values = String::new();
    for k in &keys {
        if let Ok(v) = redis::cmd("GET").arg(k).query_async::<String>(&mut c).await {
            values.push_str(&v);
            values.push('\n');
        }
    }
    assert!(keys.iter().any(|k| k.contains(":refresh:")), "{keys:?}");
    let issued = mock.issued_secrets();
    assert!(issued.len() >= 4, "{issued:?}");
    for secret in issued.iter().map(String::as_str).chain(["ticket-1"]) {
        assert!(
            !values.contains(secret),
            "{secret} readable in Redis:\n{values}"
        );
    }
    assert!(
        values.contains("qyapi_hrm_read_user"),
        "grants stay readable"
    );
    // Same key: the token and the ticket are shared, no new token request.
    let requests = mock.token_requests();
    let b = sealed([1; 32]);
    call(&b).await.unwrap();
    assert_eq!(mock.token_requests(), requests);
    // Another key: nothing opens; there is no ticket to fetch a token with.
    let other = sealed([2; 32]);
    assert!(other.corp(CORP).access_token().await.is_err());
    assert_eq!(mock.token_requests(), requests);
}

/// Stream mode across a fleet on a real redis-server: one instance holds the connection,
/// the other stands by and takes over within the lease once the holder is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stream_connection_per_fleet_on_redis() {
    use dingscope::client::stream::Connection;
    let server = redis_or_skip!();
    let mock = mock().await;
    let start = || {
        instance(&mock, &server.url())
            .stream()
            .backoff(Duration::from_millis(20), Duration::from_millis(200))
            .lease(Duration::from_millis(900))
            .start()
    };
    let a = start();
    a.wait_for(|s| s.connection == Connection::Connected).await;
    assert!(mock.stream_connected().await);
    let b = start();
    b.wait_for(|s| s.connection == Connection::Standby).await;
    assert_eq!(mock.stream_connections(), 1);
    let killed = std::time::Instant::now();
    a.abort();
    b.wait_for(|s| s.connection == Connection::Connected).await;
    assert!(
        killed.elapsed() < Duration::from_secs(3),
        "{:?}",
        killed.elapsed()
    );
    b.shutdown().await;
}
