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
    // A server that refuses a long body may answer and close before reading it all.
    let _ = s.write_all(raw.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
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
    let body = r#"{"clientId":"mock-suite-key","corpId":"dingmockcorp","rpcScope":"qyapi_hrm_read_user","type":1}"#;
    let answer = request(
        port,
        &format!(
            "POST /mock/openAuth HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    // What a foreign web page can send: a simple request (text/plain), or JSON from its
    // own origin. Neither grants anything.
    let forged = r#"{"clientId":"mock-suite-key","corpId":"dingmockcorp","rpcScope":"Contact.User.Read","type":1}"#;
    for headers in [
        "content-type: text/plain".to_owned(),
        "content-type: application/json\r\norigin: http://evil.example".to_owned(),
    ] {
        let answer = request(
            port,
            &format!(
                "POST /mock/openAuth HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n{headers}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{forged}",
                forged.len()
            ),
        );
        assert!(
            answer.starts_with("HTTP/1.1 415") || answer.starts_with("HTTP/1.1 403"),
            "{headers}: {answer}"
        );
    }
    // The page the mock serves itself may.
    let answer = request(
        port,
        &format!(
            "POST /mock/openAuth HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\norigin: http://127.0.0.1:{port}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{forged}",
            forged.len()
        ),
    );
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    // Nor can a body of any size be posted.
    let huge = "x".repeat(2 << 20);
    let answer = request(
        port,
        &format!(
            "POST /mock/openAuth HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{huge}",
            huge.len()
        ),
    );
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(200)]
    );
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
