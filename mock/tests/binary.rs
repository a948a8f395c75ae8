//! The mock as a program: it listens where told, and `POST /mock/openAuth` grants.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// Stops the mock even if an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

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
    let mut mock = Running(
        Command::new(env!("CARGO_BIN_EXE_dingscope-mock"))
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Ready once it says where it listens (a connect loop could meet itself on loopback).
    let mut first = String::new();
    BufReader::new(mock.0.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains(&format!("127.0.0.1:{port}")), "{first}");
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
