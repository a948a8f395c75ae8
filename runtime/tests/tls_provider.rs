//! The client brings its own TLS provider and leaves the process-wide default to the
//! application. Alone in its test binary: the default is one per process.

use dingscope::Secret;
use dingscope::client::{App, DingTalk};

#[test]
fn the_process_default_provider_is_the_applications() {
    let _dt = DingTalk::builder(App::isv("suite-key", Secret::new("suite-secret")))
        .build()
        .unwrap();
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "building a client installed a process-wide provider"
    );
    // The application installs its own, as it would without dingscope.
    rustls::crypto::ring::default_provider()
        .install_default()
        .unwrap();
    let _second = DingTalk::builder(App::isv("suite-key", Secret::new("suite-secret")))
        .build()
        .unwrap();
}
