//! The token cache's hit path, a full API call through the client against a bare
//! reqwest call of the same endpoint with the same token, and every page of a list through
//! `Paging` against a hand-written loop, all on the embedded mock.
//!
//! `cargo bench -p dingscope --bench client`; figures in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use dingscope::Secret;
use dingscope::client::{App, DingTalk, Paging};
use dingscope_mock::MockDingTalk;

const PATH: &str = "/v1.0/hrm/employees/dismissions";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (mock, corp) = rt.block_on(async {
        let mock = MockDingTalk::start().await.unwrap();
        mock.install_suite("suite", "suite-secret", "ticket", "corp");
        mock.grant_corp("corp", ["qyapi_hrm_read_user"]);
        let dt = DingTalk::builder(App::isv("suite", Secret::new("suite-secret")))
            .api_base(mock.base_url())
            .build()
            .unwrap();
        dt.set_suite_ticket(Secret::new("ticket")).await.unwrap();
        let corp = dt.corp("corp");
        corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
        corp.access_token().await.unwrap();
        (mock, corp)
    });
    assert!(corp.cached_token().is_some());

    let mut g = c.benchmark_group("token_cache");
    g.bench_function("hit", |b| b.iter(|| black_box(&corp).cached_token()));
    let stop = Arc::new(AtomicBool::new(false));
    let other = {
        let (corp, stop) = (corp.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                black_box(corp.cached_token());
            }
        })
    };
    g.bench_function("hit_with_a_second_thread_contending", |b| {
        b.iter(|| black_box(&corp).cached_token())
    });
    stop.store(true, Ordering::Relaxed);
    other.join().unwrap();
    g.finish();

    let token = corp.cached_token().unwrap();
    // The bare client is the program's own reqwest, plain HTTP on the loopback.
    let http = reqwest::Client::new();
    let url = format!("{}{PATH}", mock.base_url());
    let mut g = c.benchmark_group("full_call");
    g.bench_function("dingscope_client", |b| {
        b.iter(|| {
            rt.block_on(
                corp.get(PATH)
                    .query("maxResults", 10)
                    .send::<serde_json::Value>(),
            )
            .unwrap()
        })
    });
    // The same request on a bare reqwest client, with the same token.
    let bare = |http: &reqwest::Client| {
        rt.block_on(async {
            http.get(&url)
                .query(&[("maxResults", "10")])
                .header("x-acs-dingtalk-access-token", token.expose())
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    g.bench_function("bare_reqwest", |b| b.iter(|| bare(&http)));
    // The client sets a 3 s timeout; the same on a bare client, for a like-for-like figure.
    let timed = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    g.bench_function("bare_reqwest_with_timeout", |b| b.iter(|| bare(&timed)));
    g.finish();

    // Every page of the 120 leavers (three pages of 50): the paging stream against the
    // loop an app writes by hand.
    let mut g = c.benchmark_group("all_pages");
    g.bench_function("pages_collect_all", |b| {
        b.iter(|| {
            let ids: Vec<String> = rt
                .block_on(
                    corp.get(PATH)
                        .query("maxResults", 50)
                        .pages(Paging::next_token("userIdList"))
                        .collect_all(),
                )
                .unwrap();
            assert_eq!(ids.len(), 120);
        })
    });
    g.bench_function("hand_written_loop", |b| {
        b.iter(|| {
            let ids = rt.block_on(async {
                let (mut ids, mut next) = (Vec::<String>::new(), 0u64);
                loop {
                    let page: serde_json::Value = corp
                        .get(PATH)
                        .query("maxResults", 50)
                        .query("nextToken", next)
                        .send()
                        .await
                        .unwrap();
                    ids.extend(
                        serde_json::from_value::<Vec<String>>(page["userIdList"].clone()).unwrap(),
                    );
                    if page["hasMore"] != true {
                        return ids;
                    }
                    next = page["nextToken"].as_u64().unwrap();
                }
            });
            assert_eq!(ids.len(), 120);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
