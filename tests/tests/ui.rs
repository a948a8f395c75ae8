//! Compile-time behaviour of `#[requires_scope]`. The `.stderr` snapshots are tied to
//! rustc 1.95; on any other compiler this test is skipped. Re-record with
//! `TRYBUILD=overwrite cargo test -p dingscope-tests --test ui` and review the diff.

#[rustversion::stable(1.95)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
