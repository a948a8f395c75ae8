//! The application's own `reqwest` client, alone in its test binary so that nothing has
//! installed a process-wide TLS provider before it is built.

/// A `reqwest` client of the application's own, built with no TLS feature of its own and
/// before any `DingTalk`, works: linking dingscope turns on no TLS backend in the
/// application's `reqwest` that would then need a process-wide provider.
#[test]
fn the_applications_own_reqwest_client_builds_before_any_dingtalk() {
    let built = std::panic::catch_unwind(|| reqwest::Client::builder().build());
    match built {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("the application's reqwest client failed to build: {e}"),
        Err(_) => panic!("the application's reqwest client panicked while building"),
    }
}
