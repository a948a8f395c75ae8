//! A SyncHTTP push through `CallbackHandler`: verify the signature, refuse a replay,
//! decrypt, parse, apply a suite ticket and a corp authorization to the client, and write
//! the encrypted `success`.
//!
//! `cargo bench -p dingscope --features callback --bench callback`; figures in
//! BENCHMARKS.md.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use dingscope::Secret;
use dingscope::client::callback::{CallbackCrypto, CallbackHandler};
use dingscope::client::{App, DingTalk};
use serde_json::json;

const KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let crypto = CallbackCrypto::new(Secret::new("token"), &Secret::new(KEY), "suite").unwrap();
    let dt = DingTalk::builder(App::isv("suite", Secret::new("secret")))
        .build()
        .unwrap();
    let handler = CallbackHandler::new(dt, crypto.clone());
    let payload = json!({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [
        {"biz_type": 2, "corp_id": "dingsuite", "gmt_modified": 1_700_000_000_000u64,
         "biz_data": json!({"syncAction": "suite_ticket", "suiteTicket": "ticket", "syncSeq": "1"}).to_string()},
        {"biz_type": 4, "corp_id": "dingA",
         "biz_data": json!({"syncAction": "org_suite_auth", "auth_corp_info": {"corpid": "dingA", "corp_name": "A"}}).to_string()},
    ]})
    .to_string();
    let encrypt = crypto.encrypt(&payload);
    let body = json!({"encrypt": encrypt}).to_string().into_bytes();
    let mut n = 0u64;
    c.bench_function("callback/verify_decrypt_dispatch_reply", |b| {
        b.iter_batched(
            || {
                n += 1;
                let nonce = format!("n{n}");
                vec![
                    (
                        "msg_signature".to_owned(),
                        crypto.signature("1700000000000", &nonce, &encrypt),
                    ),
                    ("timestamp".to_owned(), "1700000000000".to_owned()),
                    ("nonce".to_owned(), nonce),
                ]
            },
            |query| rt.block_on(handler.handle(&query, &body)).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

/// DingTalk's URL check through the axum route on loopback, one POST at a time over a
/// kept-alive connection (feature `axum`).
#[cfg(feature = "axum")]
fn round_trip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let crypto = CallbackCrypto::new(Secret::new("token"), &Secret::new(KEY), "suite").unwrap();
    let dt = DingTalk::builder(App::isv("suite", Secret::new("secret")))
        .build()
        .unwrap();
    let app = axum::Router::new().route(
        "/dingtalk",
        dingscope::client::callback::route(CallbackHandler::new(dt, crypto.clone())),
    );
    let addr = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    });
    let http = reqwest::Client::new();
    let encrypt = crypto.encrypt(r#"{"EventType":"check_url"}"#);
    let body = json!({"encrypt": encrypt}).to_string();
    let mut n = 0u64;
    c.bench_function("callback/axum_check_url_round_trip", |b| {
        b.iter_batched(
            || {
                n += 1;
                let nonce = format!("r{n}");
                (crypto.signature("1700000000000", &nonce, &encrypt), nonce)
            },
            |(signature, nonce)| {
                rt.block_on(async {
                    let r = http
                        .post(format!("http://{addr}/dingtalk"))
                        .query(&[
                            ("msg_signature", signature.as_str()),
                            ("timestamp", "1700000000000"),
                            ("nonce", nonce.as_str()),
                        ])
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    r.bytes().await.unwrap()
                })
            },
            BatchSize::SmallInput,
        )
    });
}

#[cfg(not(feature = "axum"))]
fn round_trip(_: &mut Criterion) {}

criterion_group!(benches, bench, round_trip);
criterion_main!(benches);
