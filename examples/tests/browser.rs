//! The openAuth round trip in a real browser: headless Chromium, driven by playwright-core
//! (`examples/web/browser.mjs`), clicks through the example page served on the mock and
//! checks each step; the mock then says what openAuth was called with and what reached
//! DingTalk. `.ci/run` installs Chromium (Debian's `chromium`) and the npm packages
//! (`npm ci` in `examples/web`); without them the test says so and is skipped, except
//! under `CI`, where their absence fails it.
//!
//! `DINGSCOPE_SCREENSHOT=docs/web-round-trip.png` also writes the final page's screenshot.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dingscope_examples::web;
use serde_json::Value;

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// What the browser test needs, or why it cannot run.
fn prerequisites() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    node()?;
    if !web_dir().join("node_modules/playwright-core").is_dir() {
        return Err("no playwright-core (npm ci in examples/web)".into());
    }
    Ok(())
}

/// Whether `what` can run: if not, says why and skips, except under `CI`, where
/// `.ci/run` installed everything and a missing piece is a failure.
fn ready(what: &str, prerequisites: Result<(), String>) -> bool {
    let Err(why) = prerequisites else {
        return true;
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {what} cannot run: {why}"
    );
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipping {what}: {why}");
    false
}

fn node() -> Result<(), String> {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(drop)
        .ok_or_else(|| "no node".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_walks_the_round_trip() {
    if !ready("the browser test", prerequisites()) {
        return;
    }
    let site = web::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let mock = site
        .setup
        .mock
        .as_ref()
        .expect("the example runs on the mock");
    let url = format!("http://{}/", site.addr);
    let screenshot = std::env::var("DINGSCOPE_SCREENSHOT").ok().map(|p| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(p)
            .display()
            .to_string()
    });
    let output = tokio::task::spawn_blocking(move || {
        let mut node = Command::new("node");
        node.current_dir(web_dir()).arg("browser.mjs").arg(&url);
        if let Some(path) = screenshot {
            node.arg(path);
        }
        node.output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        output.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names: Vec<&str> = steps.iter().filter_map(|s| s["step"].as_str()).collect();
    for wanted in [
        "denied, openAuth opened",
        "cancel",
        "toAdmin",
        "closed",
        "granted",
        "no second openAuth",
        "delegated granted",
        "done",
    ] {
        assert!(names.contains(&wanted), "no step {wanted:?} in {names:?}");
    }

    // openAuth was called with exactly the denials' parameters, and the app's clientId.
    let asked: Vec<(String, String, String, i64, String)> = mock
        .open_auth_requests()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
            (
                s("clientId"),
                s("rpcScope"),
                s("fieldScope"),
                r["type"].as_i64().unwrap_or(-1),
                s("decision"),
            )
        })
        .collect();
    let corp = |decision: &str| {
        (
            "mock-suite-key".to_owned(),
            "qyapi_hrm_read_user".to_owned(),
            String::new(),
            1,
            decision.to_owned(),
        )
    };
    // The closed dialog reached nobody.
    assert_eq!(
        asked,
        [
            corp("cancel"),
            corp("toAdmin"),
            corp("ok"),
            (
                "mock-suite-key".to_owned(),
                "Contact.User.Read".to_owned(),
                "Contact.User.mobile".to_owned(),
                0,
                "ok".to_owned()
            ),
        ]
    );
    for r in mock.open_auth_requests() {
        assert_eq!(r["corpId"], "dingmockcorp");
    }
    // The denied calls were refused before sending: only the two granted listings (three
    // pages each) reached DingTalk, and `users/me` twice: once to bind the authCode to the
    // signed-in user, once for the profile.
    assert_eq!(mock.api_requests("/v1.0/hrm/employees/dismissions"), 6);
    assert_eq!(mock.api_requests("/v1.0/contact/users/me"), 2);
}

/// The page's helper on its own, with a fake openAuth and a fake fetch
/// (`examples/web/helper.test.mjs`): each answer reported, only `ok` retried, a refused
/// report or bad options never retried, a 403 that is not a denial left alone.
#[test]
fn the_page_helper_passes_its_unit_tests() {
    if !ready("the helper's tests", node()) {
        return;
    }
    let out = Command::new("node")
        .current_dir(web_dir())
        .args(["--test", "helper.test.mjs"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("# pass 7") && stdout.contains("# fail 0"),
        "{stdout}"
    );
}
