//! A hostile network: redirects, paths that would reach another API or host, answers too
//! long to read, clear-text bases, and requests that cannot be built. Each is refused with
//! a typed error, and nothing secret reaches a host other than the configured one.

use dingscope::client::{App, DingTalk, Principal};
use dingscope::{Error, Secret};
use dingscope_mock::MockDingTalk;
use dingscope_mock::raw::{RawRequest, RawServer};
use serde_json::Value;

mod common;
use common::*;

fn client(base: &str) -> DingTalk {
    DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
        .api_base(base)
        .oapi_base(base)
        .retry(fast_retry())
        .build()
        .unwrap()
}

const TOKEN: &str = r#"{"accessToken":"token-value-7","expireIn":7200}"#;

/// The corp of an ISV client on `server`, with the suite ticket and a grant of the
/// dismissions code: what a call needs before it reaches the network.
async fn granted_corp(server: &RawServer) -> Principal {
    let dt = client(&server.base_url());
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    let corp = dt.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    corp
}

/// Answers the token endpoint with a token, and everything else with `other`.
fn token_then(
    other: impl Fn(&RawRequest) -> Vec<u8> + Send + Sync + 'static,
) -> impl Fn(&RawRequest) -> Vec<u8> + Send + Sync + 'static {
    move |r: &RawRequest| {
        if r.target().starts_with("/v1.0/oauth2/") {
            RawServer::json(200, TOKEN)
        } else {
            other(r)
        }
    }
}

fn redirect_to(url: String) -> impl Fn(&RawRequest) -> Vec<u8> + Send + Sync + 'static {
    move |r: &RawRequest| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {url}{}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            r.target()
        )
        .into_bytes()
    }
}

/// A token endpoint that redirects: the suite secret and ticket are not posted again to
/// the other host.
#[tokio::test]
async fn a_redirected_token_request_is_not_followed() {
    let elsewhere = RawServer::start(|_: &RawRequest| RawServer::json(200, TOKEN))
        .await
        .unwrap();
    let redirector = RawServer::start(redirect_to(elsewhere.base_url()))
        .await
        .unwrap();
    let dt = client(&redirector.base_url());
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    let err = dt.corp(CORP).access_token().await.unwrap_err();
    assert!(
        elsewhere.requests().is_empty(),
        "followed: {:?}",
        elsewhere.requests()
    );
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
}

/// An API that redirects, on the new API (token in a header) and the old one (token in the
/// query, which a `Referer` would carry): the token never reaches the other host.
#[tokio::test]
async fn a_redirected_api_call_carries_no_token_elsewhere() {
    let elsewhere = RawServer::start(|_: &RawRequest| RawServer::json(200, r#"{"errcode":0}"#))
        .await
        .unwrap();
    let redirector = RawServer::start(token_then(redirect_to(elsewhere.base_url())))
        .await
        .unwrap();
    let corp = granted_corp(&redirector).await;
    for path in [DISMISSIONS, "/topapi/smartwork/hrm/employee/querydimission"] {
        let err = corp
            .request(reqwest::Method::POST, path)
            .send::<Value>()
            .await;
        let err = match err {
            Err(e) => e,
            Ok(v) => panic!("{path}: {v}"),
        };
        assert!(matches!(err, Error::Protocol(_)), "{path}: {err:?}");
    }
    for r in elsewhere.requests() {
        assert!(
            !r.contains("token-value-7"),
            "the token went elsewhere: {}",
            r.head
        );
    }
    assert!(elsewhere.requests().is_empty());
}

async fn isv_on_mock() -> (MockDingTalk, DingTalk) {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite(SUITE, SUITE_SECRET, TICKET, CORP);
    let dt = client(&mock.base_url());
    dt.set_suite_ticket(Secret::new(TICKET)).await.unwrap();
    (mock, dt)
}

/// Dot segments, raw or percent-encoded, would pass the pre-check under one path and reach
/// another API: refused, nothing sent.
#[tokio::test]
async fn dot_segments_are_refused_before_anything_is_sent() {
    let (mock, dt) = isv_on_mock().await;
    mock.grant_corp(CORP, ["Contact.User.Read"]);
    let corp = dt.corp(CORP);
    corp.set_grant(["Contact.User.Read"]).await.unwrap();
    for path in [
        "/v1.0/contact/users/me/../../../hrm/employees/dismissions",
        "/v1.0/contact/users/me/%2e%2e/%2e%2e/%2E%2E/hrm/employees/dismissions",
    ] {
        let err = corp.get(path).send::<Value>().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{path}: {err:?}");
    }
    assert_eq!(mock.all_api_requests(), 0);
    assert_eq!(mock.token_requests(), 0);
}

/// A path without its leading `/` would move the request, token and all, to another host.
#[tokio::test]
async fn a_path_cannot_change_the_host() {
    let other = RawServer::start(|_: &RawRequest| RawServer::json(200, "{}"))
        .await
        .unwrap();
    let (mock, dt) = isv_on_mock().await;
    let corp = dt.corp(CORP);
    for path in [
        format!("@localhost:{}/v1.0/x", other.port()),
        "v1.0/x".to_owned(),
    ] {
        let err = corp.get(&path).send::<Value>().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{path}: {err:?}");
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert_eq!(mock.all_api_requests(), 0);
}

/// DingTalk's full URL form, which the attribute's endpoint check reads, goes to the
/// configured base of its host.
#[tokio::test]
async fn a_full_dingtalk_url_maps_onto_the_configured_base() {
    let (mock, dt) = isv_on_mock().await;
    mock.grant_corp(CORP, ["qyapi_hrm_read_user"]);
    let corp = dt.corp(CORP);
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let page: Value = corp
        .get(&format!("https://api.dingtalk.com{DISMISSIONS}"))
        .query("nextToken", 0)
        .query("maxResults", 10)
        .send()
        .await
        .unwrap();
    assert!(page["userIdList"].is_array(), "{page}");
    assert_eq!(mock.api_requests(DISMISSIONS), 1);
}

/// An answer longer than the limit (4 MiB by default) is refused, with or without a
/// `Content-Length`, and not read to its end.
#[tokio::test]
async fn an_answer_too_long_is_refused() {
    let padding = "x".repeat(5 << 20);
    let body = format!(r#"{{"userIdList":[],"pad":"{padding}"}}"#);
    let long = RawServer::json(200, &body);
    let chunked = {
        let mut r = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
        for piece in body.as_bytes().chunks(1 << 16) {
            r.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            r.extend_from_slice(piece);
            r.extend_from_slice(b"\r\n");
        }
        r.extend_from_slice(b"0\r\n\r\n");
        r
    };
    for answer in [long, chunked] {
        let server = RawServer::start(token_then(move |_: &RawRequest| answer.clone()))
            .await
            .unwrap();
        let corp = granted_corp(&server).await;
        let err = corp.get(DISMISSIONS).send::<Value>().await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        assert!(err.to_string().contains("longer than"), "{err}");
    }
}

/// `http://` only on the loopback, unless the builder is told otherwise.
#[test]
fn clear_text_bases_are_for_the_loopback() {
    let build = |base: &str| {
        DingTalk::builder(App::isv(SUITE, Secret::new(SUITE_SECRET)))
            .api_base(base)
            .build()
    };
    let err = build("http://10.1.2.3:8080").unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(build("http://127.0.0.1:8080").is_ok());
    assert!(build("https://10.1.2.3").is_ok());
}

/// A token that cannot be a header value fails the call at once: a request that cannot
/// be built is not a transport failure to retry.
#[tokio::test]
async fn a_request_that_cannot_be_built_is_not_retried() {
    let server = RawServer::start(|r: &RawRequest| {
        if r.target().starts_with("/v1.0/oauth2/") {
            RawServer::json(200, r#"{"accessToken":"bad\ntoken","expireIn":7200}"#)
        } else {
            RawServer::json(200, "{}")
        }
    })
    .await
    .unwrap();
    let corp = granted_corp(&server).await;
    let err = corp.get(DISMISSIONS).send::<Value>().await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(!err.to_string().contains("bad"), "{err}");
    assert_eq!(server.requests().len(), 1, "only the token request");
}
