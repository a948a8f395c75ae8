//! A fleet's figures: the default store at 1,000 and 100,000 entries, the memory one
//! process spends per corp, and 1,000 callers against a 429 with `Retry-After: 1`.
//!
//! `cargo bench -p dingscope --bench fleet`; figures in BENCHMARKS.md and RELIABILITY.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use dingscope::Secret;
use dingscope::client::{App, DingTalk, MemoryStore, Store};
use dingscope_mock::MockDingTalk;

/// Counts the bytes live that the measuring thread allocated.
struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count(new as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

fn count(bytes: isize) {
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SUITE: &str = "suite";
const CORPS: usize = 100_000;

fn store_ops(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("memory_store");
    for n in [1_000usize, 100_000] {
        let store = MemoryStore::new();
        rt.block_on(async {
            for i in 0..n {
                let ttl = (i % 2 == 0).then_some(Duration::from_secs(7200));
                store
                    .set(
                        &format!("dingscope:token:suite:corp{i}:application"),
                        "x".repeat(120),
                        ttl,
                    )
                    .await
                    .unwrap();
            }
        });
        let mut i = 0usize;
        g.bench_function(format!("get/{n}"), |b| {
            b.iter(|| {
                i = (i + 7919) % n;
                let key = format!("dingscope:token:suite:corp{i}:application");
                black_box(rt.block_on(store.get(&key)).unwrap())
            })
        });
        g.bench_function(format!("set/{n}"), |b| {
            b.iter(|| {
                i = (i + 7919) % n;
                let key = format!("dingscope:token:suite:corp{i}:application");
                rt.block_on(store.set(&key, "y".repeat(120), Some(Duration::from_secs(7200))))
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// 100,000 corps in one process: each with a grant and a token, everything in the default
/// store. The client runs on this thread; the mock on its own.
fn memory_per_corp() {
    let mock_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mock = mock_rt.block_on(async {
        let mock = MockDingTalk::start().await.unwrap();
        mock.install_suite(SUITE, "suite-secret", "ticket", "corp0");
        for i in 1..CORPS {
            mock.authorize_corp(SUITE, &format!("corp{i}"));
        }
        mock
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (grants, tokens) = rt.block_on(async {
        let dt = DingTalk::builder(App::isv(SUITE, Secret::new("suite-secret")))
            .api_base(mock.base_url())
            .build()
            .unwrap();
        dt.set_suite_ticket(Secret::new("ticket")).await.unwrap();
        // Warm: the connection pool and the first allocations of every map.
        dt.corp("corp0").access_token().await.unwrap();
        MEASURING.with(|m| m.set(true));
        let before = LIVE.with(Cell::get);
        for i in 0..CORPS {
            dt.corp(format!("corp{i}"))
                .set_grant(["qyapi_hrm_read_user", "Contact.User.Read"])
                .await
                .unwrap();
        }
        let grants = LIVE.with(Cell::get) - before;
        let before = LIVE.with(Cell::get);
        for i in 0..CORPS {
            dt.corp(format!("corp{i}")).access_token().await.unwrap();
        }
        let tokens = LIVE.with(Cell::get) - before;
        MEASURING.with(|m| m.set(false));
        (grants, tokens)
    });
    let per = |b: isize| b as f64 / CORPS as f64;
    println!(
        "memory per corp at {CORPS} corps: grant {:.0} B, token {:.0} B, together {:.0} B (in the process and the default store; {:.1} s to fill)",
        per(grants),
        per(tokens),
        per(grants + tokens),
        started.elapsed().as_secs_f64()
    );
}

/// 1,000 callers at once while DingTalk answers every request of the next second with 429
/// and `Retry-After: 1`: how many requests they send.
fn thousand_callers_against_a_429() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mock = MockDingTalk::start().await.unwrap();
        mock.install_suite(SUITE, "suite-secret", "ticket", "corp");
        mock.grant_corp("corp", ["qyapi_hrm_read_user"]);
        let dt = DingTalk::builder(App::isv(SUITE, Secret::new("suite-secret")))
            .api_base(mock.base_url())
            .build()
            .unwrap();
        dt.set_suite_ticket(Secret::new("ticket")).await.unwrap();
        let corp = dt.corp("corp");
        corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
        corp.access_token().await.unwrap();
        let path = "/v1.0/hrm/employees/dismissions";
        mock.throttle_for(Duration::from_secs(1), 1);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..1000 {
            let corp = corp.clone();
            tasks.push(tokio::spawn(async move {
                corp.get(path)
                    .query("maxResults", 10)
                    .send::<serde_json::Value>()
                    .await
                    .is_ok()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += usize::from(t.await.unwrap());
        }
        println!(
            "1,000 callers against a 429 with Retry-After: 1: {} requests sent ({} refused), {ok} calls succeeded, in {:.2} s",
            mock.api_requests(path),
            mock.window_refusals(),
            started.elapsed().as_secs_f64()
        );
    });
}

fn figures(c: &mut Criterion) {
    memory_per_corp();
    thousand_callers_against_a_429();
    store_ops(c);
}

criterion_group!(benches, figures);
criterion_main!(benches);
