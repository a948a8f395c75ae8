//! DingTalk's official Python Stream SDK (`pip install dingtalk-stream`) as an independent
//! client of the mock's gateway: it opens a connection through
//! `DINGTALK_OPENAPI_ENDPOINT`, receives a pushed event and a ping, and acknowledges both
//! its own way. Without Python or the SDK, the test says so and is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use dingscope_mock::MockDingTalk;
use serde_json::json;

const SUITE: &str = "suite-key";
const SUITE_SECRET: &str = "suite-secret-sdk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_speaks_to_the_mock() {
    let sdk = Command::new("python3")
        .args(["-c", "import dingtalk_stream"])
        .stderr(Stdio::null())
        .status();
    if !sdk.is_ok_and(|s| s.success()) {
        // In CI, `.ci/run` installs the SDK: its absence is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but the official Python Stream SDK is not installed"
        );
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipping the official SDK test: `python3 -c 'import dingtalk_stream'` failed (pip install dingtalk-stream)"
        );
        return;
    }
    let mock = MockDingTalk::start().await.unwrap();
    mock.add_suite(SUITE, SUITE_SECRET);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scripts/stream_sdk_check.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .env("DINGTALK_OPENAPI_ENDPOINT", mock.base_url())
        .env("CLIENT_ID", SUITE)
        .env("CLIENT_SECRET", SUITE_SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let outcome = tokio::time::timeout(Duration::from_secs(30), async {
        while mock.stream_connections() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let data = json!({"userId": ["manager123"], "syncAction": "user_add_org"});
        let id = mock
            .stream_push("user_add_org", Some("dingcorp1"), data)
            .unwrap();
        let ping = mock.stream_ping();
        let mut handled = None;
        while handled.is_none() {
            let line = lines.recv().await.expect("the SDK printed its events");
            if line.starts_with("event ") {
                handled = Some(line);
            }
        }
        let handled = handled.unwrap();
        assert!(
            handled.contains("user_add_org") && handled.contains(&id),
            "{handled}"
        );
        assert!(
            handled.contains("manager123"),
            "the data arrived as JSON: {handled}"
        );
        // Both acknowledgements arrive, with code 200 and the frames' messageIds.
        loop {
            let acks = mock.stream_acks();
            let of = |m: &str| {
                acks.iter()
                    .find(|a| a["headers"]["messageId"] == m)
                    .cloned()
            };
            if let (Some(event), Some(pong)) = (of(&id), of(&ping)) {
                assert_eq!(event["code"], 200, "{event}");
                assert_eq!(pong["code"], 200, "{pong}");
                assert_eq!(event["headers"]["contentType"], "application/json");
                let echoed: serde_json::Value =
                    serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
                assert_eq!(echoed["userId"][0], "manager123", "{event}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    outcome.expect("the SDK connected, handled the event and acknowledged it within 30 s");
    assert!(mock.stream_opens() >= 1);
}
