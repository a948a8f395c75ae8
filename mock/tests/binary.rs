//! The mock as a program: it listens where told, and `POST /mock/openAuth` grants.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn request(port: u16, raw: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serves_tokens_and_grants_over_http() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dingscope-mock"))
        .arg(port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let body = r#"{"corpId":"dingmockcorp","rpcScope":"qyapi_hrm_read_user","type":1}"#;
    let answer = request(
        port,
        &format!(
            "POST /mock/openAuth HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    let body = r#"{"suiteKey":"mock-suite-key","suiteSecret":"mock-suite-secret","authCorpId":"dingmockcorp","suiteTicket":"mock-ticket"}"#;
    let answer = request(
        port,
        &format!(
            "POST /v1.0/oauth2/corpAccessToken HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.contains("accessToken"),
        "{answer}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn refuses_a_bad_port() {
    let out = Command::new(env!("CARGO_BIN_EXE_dingscope-mock"))
        .arg("not-a-port")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a port number"));
}
