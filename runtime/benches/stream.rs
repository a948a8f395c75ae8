//! Stream mode on loopback: events acknowledged per second through the client, and the
//! time from a suite ticket's push to its being applied (acknowledged after it is kept,
//! so the next token request uses it).
//!
//! `cargo bench -p dingscope --features stream --bench stream`; figures in BENCHMARKS.md.

use std::time::{Duration, Instant};

use dingscope::Secret;
use dingscope::client::stream::Connection;
use dingscope::client::{App, DingTalk};
use dingscope_mock::MockDingTalk;
use serde_json::json;

const EVENTS: usize = 20_000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mock = MockDingTalk::start().await.unwrap();
        mock.add_suite("suite", "suite-secret");
        let dt = DingTalk::builder(App::isv("suite", Secret::new("suite-secret")))
            .api_base(mock.base_url())
            .build()
            .unwrap();
        let stream = dt.stream().start();
        stream
            .wait_for(|s| s.connection == Connection::Connected)
            .await;

        // Throughput: events pushed back to back, until the last is acknowledged.
        let started = Instant::now();
        let mut last = String::new();
        for i in 0..EVENTS {
            last = mock
                .stream_push(
                    "user_add_org",
                    Some("dingcorp1"),
                    json!({"userId": [format!("u{i}")]}),
                )
                .unwrap();
        }
        while mock.stream_ack_count() < EVENTS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let took = started.elapsed();
        assert!(
            mock.stream_acks()
                .iter()
                .any(|a| a["headers"]["messageId"] == last)
        );
        println!(
            "{EVENTS} events acknowledged in {:.3} s: {:.0} events/s",
            took.as_secs_f64(),
            EVENTS as f64 / took.as_secs_f64()
        );

        // Latency: a suite ticket's push to its acknowledgement, which follows its being kept.
        let mut lat = Vec::new();
        for i in 0..500 {
            let acks = mock.stream_ack_count();
            let t = Instant::now();
            mock.stream_suite_ticket("suite", &format!("ticket-{i}"))
                .unwrap();
            while mock.stream_ack_count() == acks {
                tokio::task::yield_now().await;
            }
            lat.push(t.elapsed());
        }
        lat.sort();
        let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
        println!(
            "suite ticket, push to kept (500 pushes): p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
            p(0.5).as_secs_f64() * 1e6,
            p(0.99).as_secs_f64() * 1e6,
            lat.last().unwrap().as_secs_f64() * 1e6
        );
        stream.shutdown().await;
    });
}
