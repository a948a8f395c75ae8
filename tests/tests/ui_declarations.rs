//! Compile-time checks against an applied-for list (`dingscope.toml`), named here with
//! `DINGSCOPE_APPLIED`. Snapshots are tied to rustc 1.95, as in `ui.rs`.

#[rustversion::stable(1.95)]
#[test]
fn ui_declarations() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/ui/declarations/dingscope.toml"
    );
    // SAFETY: this binary has this one test, and sets the variable before starting
    // any thread; trybuild's cargo invocations inherit it.
    unsafe { std::env::set_var("DINGSCOPE_APPLIED", file) };
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/declarations/pass/*.rs");
    t.compile_fail("tests/ui/declarations/fail/*.rs");
}
