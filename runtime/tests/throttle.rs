//! DingTalk's limits, respected by every instance sharing a store: `Retry-After`, the
//! per-minute limits, the IP ban's breaker and the optional rate limiter.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{CORP, DISMISSIONS, SUITE, SUITE_SECRET, TICKET, fast_retry};
use dingscope::client::{App, DingTalk, MemoryStore, Store};
use dingscope::{ApiError, Error, Secret};
use dingscope_mock::{Fault, MockDingTalk, Target};
use serde_json::Value;

const OTHER_CORP: &str = "dingcorp2";

async fn mock() -> MockDingTalk {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, TICKET, CORP);
    mock.authorize_corp(SUITE, OTHER_CORP);
    for corp in [CORP, OTHER_CORP] {
        mock.grant_corp(corp, ["qyapi_hrm_read_user"]);
    }
    mock
}

/// One instance: its own client, the shared store.
async fn instance(mock: &MockDingTalk, store: &Arc<MemoryStore>, wait: Duration) -> DingTalk {
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .store(store.clone() as Arc<dyn Store>)
        .retry(fast_retry())
        .throttle_wait(wait)
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    for corp in [CORP, OTHER_CORP] {
        dt.corp(corp)
            .set_grant(["qyapi_hrm_read_user"])
            .await
            .unwrap();
    }
    dt
}

async fn call(dt: &DingTalk, corp: &str) -> Result<Value, Error> {
    dt.corp(corp)
        .get(DISMISSIONS)
        .query("maxResults", 10)
        .send()
        .await
}

fn throttled(e: Error) -> Box<ApiError> {
    match e {
        Error::Throttled(e) => e,
        other => panic!("not throttled: {other:?}"),
    }
}

fn secs_until(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::now())
        .unwrap_or_default()
        .as_secs_f64()
}

/// A 429 with `Retry-After: 1`: the call waits a second and succeeds with one more
/// request; meanwhile another instance sharing the store holds its calls back, and one
/// that may not wait fails without sending, naming the deadline.
#[tokio::test]
async fn retry_after_is_honoured_by_every_instance() {
    let mock = mock().await;
    let store = Arc::new(MemoryStore::new());
    let a = instance(&mock, &store, Duration::from_secs(2)).await;
    let b = instance(&mock, &store, Duration::ZERO).await;
    call(&a, CORP).await.unwrap();
    let before = mock.api_requests(DISMISSIONS);
    mock.inject(Target::Api, Fault::RetryAfter(1));
    let started = std::time::Instant::now();
    let a_call = tokio::spawn({
        let a = a.clone();
        async move { call(&a, CORP).await }
    });
    // Wait for A's refused request, then call from B within the second.
    while mock.api_requests(DISMISSIONS) == before {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = throttled(call(&b, CORP).await.unwrap_err());
    let at = e.retry_at.expect("the deadline");
    assert!(secs_until(at) > 0.0 && secs_until(at) <= 1.0, "{e}");
    assert_eq!(e.attempts, 0, "{e}");
    a_call.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(mock.api_requests(DISMISSIONS), before + 2, "B sent nothing");
    // The deadline concerns that corp's calls of that endpoint only.
    call(&b, OTHER_CORP).await.unwrap();
}

/// A per-minute limit: the call fails at once with the next minute as its deadline
/// (the window is a minute, so retrying within seconds only repeats the refusal), and
/// the next call is held back without sending.
#[tokio::test]
async fn a_per_minute_limit_holds_until_the_next_minute() {
    let mock = mock().await;
    let store = Arc::new(MemoryStore::new());
    let a = instance(&mock, &store, Duration::ZERO).await;
    call(&a, CORP).await.unwrap();
    let before = mock.api_requests(DISMISSIONS);
    mock.inject(Target::Api, Fault::PerMinute);
    let e = throttled(call(&a, CORP).await.unwrap_err());
    let at = e.retry_at.expect("the deadline");
    let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis();
    assert!(ms % 60_000 < 1_000, "not at a minute: {ms}");
    assert!(secs_until(at) <= 60.0);
    assert_eq!(mock.api_requests(DISMISSIONS), before + 1, "not retried");
    let again = throttled(call(&a, CORP).await.unwrap_err());
    assert_eq!(again.retry_at, Some(at));
    assert_eq!(mock.api_requests(DISMISSIONS), before + 1, "held back");
}

/// The IP ban, as an HTML page and as JSON on a 403 and on a 200: one request, no
/// retry, and a five-minute breaker for every call of the app, any corp, on every
/// instance sharing the store.
#[tokio::test]
async fn the_ip_ban_opens_a_breaker_for_the_whole_app() {
    for fault in [Fault::BanPage, Fault::BanJson(403), Fault::BanJson(200)] {
        let mock = mock().await;
        let store = Arc::new(MemoryStore::new());
        let a = instance(&mock, &store, Duration::from_secs(2)).await;
        let b = instance(&mock, &store, Duration::from_secs(2)).await;
        call(&a, CORP).await.unwrap();
        let before = mock.all_api_requests();
        mock.inject(Target::Api, fault.clone());
        let e = throttled(call(&a, CORP).await.unwrap_err());
        let left = secs_until(e.retry_at.expect("the deadline"));
        assert!(left > 290.0 && left <= 300.0, "{fault:?}: {e}");
        assert_eq!(mock.all_api_requests(), before + 1, "{fault:?}: retried");
        for (dt, corp) in [(&a, OTHER_CORP), (&b, CORP), (&b, OTHER_CORP)] {
            let e = throttled(call(dt, corp).await.unwrap_err());
            assert!(e.retry_at.is_some(), "{fault:?}");
        }
        assert_eq!(
            mock.all_api_requests(),
            before + 1,
            "{fault:?}: sent during a ban"
        );
    }
}

/// The rate limiter: 25 calls at once with a limit of 10 per second, shared by two
/// instances, send at most 10 in any second and all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_keeps_the_fleet_under_the_limit() {
    let mock = mock().await;
    let store = Arc::new(MemoryStore::new());
    let build = |store: &Arc<MemoryStore>| {
        DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
            .api_base(mock.base_url())
            .store(store.clone() as Arc<dyn Store>)
            .retry(fast_retry())
            .throttle_wait(Duration::from_secs(5))
            .rate_limit(10)
            .build()
            .unwrap()
    };
    let (a, b) = (build(&store), build(&store));
    a.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    a.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    let before = mock.api_requests_per_second();
    let mut tasks = Vec::new();
    for i in 0..25 {
        let dt = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(
            async move { call(&dt, CORP).await.map(|_| ()) },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let mut per_second = mock.api_requests_per_second();
    for (second, n) in before {
        *per_second.entry(second).or_default() -= n;
    }
    per_second.retain(|_, n| *n > 0);
    assert!(per_second.values().all(|n| *n <= 10), "{per_second:?}");
    assert!(per_second.len() >= 3, "{per_second:?}");
    assert_eq!(mock.api_requests(DISMISSIONS), 25);
}

/// While DingTalk refuses every request for a second with `Retry-After: 1`, 200 callers
/// at once send at most `max_in_flight` requests that are refused: the rest wait for the
/// deadline the first refusal sets, and then each sends once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_under_a_429_send_once_each_plus_those_in_flight() {
    let mock = mock().await;
    let dt = DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(mock.base_url())
        .retry(fast_retry())
        .max_in_flight(4)
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    dt.corp(CORP)
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    call(&dt, CORP).await.unwrap();
    let before = mock.api_requests(DISMISSIONS);
    mock.throttle_for(Duration::from_secs(1), 1);
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let dt = dt.clone();
        tasks.push(tokio::spawn(
            async move { call(&dt, CORP).await.map(|_| ()) },
        ));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let refused = mock.window_refusals();
    assert!((1..=4).contains(&refused), "{refused} refused");
    assert_eq!(mock.api_requests(DISMISSIONS) - before, 200 + refused);
}
