//! The grant check on the success path, against the `HashSet<String>` and `Vec<String>`
//! checks that comparable crates use, and the cost an annotated call adds.
//!
//! `cargo bench -p dingscope --bench check`; figures in BENCHMARKS.md.

use std::collections::HashSet;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use dingscope::catalog::SCOPES;
use dingscope::{Grant, Group, Requirement, WithGrantExt, requires_scope};

/// Codes spread over the whole catalog, so that every word of the bit set is used.
fn codes(n: usize) -> Vec<&'static str> {
    (0..n)
        .map(|i| SCOPES[(i * 37) % SCOPES.len()].code)
        .collect()
}

fn requirement(n: usize) -> &'static Requirement {
    let groups: Vec<Group> = codes(n)
        .into_iter()
        .map(|c| Group::rpc(Box::leak(Box::new([c]))))
        .collect();
    Box::leak(Box::new(Requirement::new(
        "bench",
        Box::leak(groups.into_boxed_slice()),
        None,
    )))
}

/// The same requirement as `#[requires_scope]` compiles it: a byte string.
fn compiled(n: usize) -> &'static [u8] {
    use dingscope::catalog::wire::{GroupInput, Input, encode};
    let input = Input {
        name: "bench",
        file: file!(),
        line: line!(),
        groups: codes(n)
            .into_iter()
            .map(|c| GroupInput {
                codes: vec![c],
                kind: dingscope::Kind::Rpc,
            })
            .collect(),
        auth: None,
    };
    Box::leak(encode(&input).unwrap().into_boxed_slice())
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for (required, granted) in [(1, 5), (3, 5), (1, 200), (3, 200), (10, 200)] {
        let req = requirement(required);
        let spec = compiled(required);
        // The grant holds the required codes and others, up to its size.
        let wanted = codes(required);
        let mut grant_codes = wanted.clone();
        grant_codes.extend(
            SCOPES
                .iter()
                .map(|s| s.code)
                .filter(|c| !wanted.contains(c))
                .take(granted - required),
        );
        // In catalog order, as a grant read from a server would be: the required codes
        // are spread through it rather than first.
        grant_codes.sort_unstable();
        let grant = Grant::application(&grant_codes);
        let name = format!("{required}_of_{granted}");

        group.bench_function(format!("dingscope_ambient/{name}"), |b| {
            grant.run(|| b.iter(|| black_box(req).check().is_ok()))
        });
        // The check an annotated function runs, on the requirement as compiled.
        group.bench_function(format!("dingscope_compiled/{name}"), |b| {
            grant.run(|| b.iter(|| dingscope::__private::covered(black_box(spec))))
        });
        group.bench_function(format!("dingscope_explicit/{name}"), |b| {
            b.iter(|| black_box(req).check_grant(black_box(&grant)).is_ok())
        });
        let set: HashSet<String> = grant_codes.iter().map(|s| s.to_string()).collect();
        let vec: Vec<String> = grant_codes.iter().map(|s| s.to_string()).collect();
        let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
        group.bench_function(format!("hashset_string/{name}"), |b| {
            b.iter(|| {
                black_box(&wanted)
                    .iter()
                    .all(|c| black_box(&set).contains(c))
            })
        });
        group.bench_function(format!("vec_string/{name}"), |b| {
            b.iter(|| {
                black_box(&wanted)
                    .iter()
                    .all(|c| black_box(&vec).contains(c))
            })
        });
    }
    group.finish();
}

#[inline(never)]
fn plain(x: u64) -> Result<u64, dingscope::Error> {
    Ok(black_box(x) + 1)
}

#[inline(never)]
#[requires_scope("qyapi_hrm_read_user")]
fn annotated(x: u64) -> Result<u64, dingscope::Error> {
    Ok(black_box(x) + 1)
}

#[inline(never)]
async fn plain_async(x: u64) -> Result<u64, dingscope::Error> {
    Ok(black_box(x) + 1)
}

#[inline(never)]
#[requires_scope("qyapi_hrm_read_user")]
async fn annotated_async(x: u64) -> Result<u64, dingscope::Error> {
    Ok(black_box(x) + 1)
}

fn poll_once<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("these futures never wait"),
    }
}

fn call_overhead(c: &mut Criterion) {
    let grant = Grant::application(["qyapi_hrm_read_user"]);
    let mut group = c.benchmark_group("call");
    group.bench_function("sync/plain", |b| b.iter(|| plain(black_box(1))));
    group.bench_function("sync/annotated", |b| {
        grant.run(|| b.iter(|| annotated(black_box(1))))
    });
    group.bench_function("async/plain", |b| {
        b.iter(|| poll_once(plain_async(black_box(1)).with_grant(&grant)))
    });
    group.bench_function("async/annotated", |b| {
        b.iter(|| poll_once(annotated_async(black_box(1)).with_grant(&grant)))
    });
    group.finish();
}

criterion_group!(benches, check, call_overhead);
criterion_main!(benches);
