//! The callback handler as an axum route, on loopback: DingTalk's URL check answered with
//! the encrypted `success`, a bad signature refused with 401.

use dingscope::Secret;
use dingscope::client::callback::{CallbackCrypto, CallbackHandler, route};
use dingscope::client::{App, DingTalk};
use serde_json::{Value, json};

const KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";

#[tokio::test]
async fn the_route_answers_dingtalk() {
    let crypto = CallbackCrypto::new(Secret::new("token"), &Secret::new(KEY), "suite").unwrap();
    let dt = DingTalk::builder(App::isv("suite", Secret::new("secret")))
        .build()
        .unwrap();
    let app =
        axum::Router::new().route("/dingtalk", route(CallbackHandler::new(dt, crypto.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let encrypt = crypto.encrypt(r#"{"EventType":"check_url"}"#);
    let http = reqwest::Client::new();
    let post = |signature: String| {
        http.post(format!("http://{addr}/dingtalk"))
            .query(&[
                ("msg_signature", signature.as_str()),
                ("timestamp", "1700000000000"),
                ("nonce", "abc"),
            ])
            .body(json!({"encrypt": encrypt}).to_string())
            .send()
    };
    let ok = post(crypto.signature("1700000000000", "abc", &encrypt))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let reply: Value = ok.json().await.unwrap();
    assert_eq!(
        crypto.decrypt(reply["encrypt"].as_str().unwrap()).unwrap(),
        "success"
    );
    crypto
        .verify(
            reply["msg_signature"].as_str().unwrap(),
            reply["timeStamp"].as_str().unwrap(),
            "abc",
            reply["encrypt"].as_str().unwrap(),
        )
        .unwrap();
    let bad = post("0".repeat(40)).await.unwrap();
    assert_eq!(bad.status(), 401);
}

/// A denial returned from an axum handler is a 403 whose JSON carries the openAuth
/// parameters the page passes on.
#[tokio::test]
async fn a_denial_is_a_403_with_its_open_auth_parameters() {
    use dingscope::{AuthType, Grant, Group, Requirement};
    static LIST: Requirement = Requirement::new(
        "app::list",
        &[Group::rpc(&["qyapi_hrm_read_user"])],
        Some(AuthType::Application),
    );
    async fn list() -> Result<&'static str, dingscope::Denied> {
        Grant::application(["snsapi_base"])
            .run(|| LIST.check())
            .map(|()| "ok")
            .map_err(|e| e.as_denied().cloned().unwrap())
    }
    let app = axum::Router::new().route("/list", axum::routing::get(list));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let r = reqwest::get(format!("http://{addr}/list")).await.unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v["openAuth"],
        json!({"rpcScope": "qyapi_hrm_read_user", "fieldScope": "", "type": 1})
    );
    assert_eq!(v["reason"], "missing");
}

/// A handler returns `Result<_, dingscope::Error>` and uses `?`: each error is a response
/// with a status the page can act on, and no secret or DingTalk detail in its body.
#[tokio::test]
async fn errors_are_responses() {
    use axum::extract::State;
    use dingscope::client::{Principal, Retry};
    use dingscope_mock::MockDingTalk;
    use std::time::Duration;
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite("suite", "suite-secret-1", "ticket-secret-1", "dingcorp");
    mock.grant_corp("dingcorp", ["qyapi_hrm_read_user"]);
    let dt = DingTalk::builder(App::isv("suite", Secret::new("suite-secret-1")))
        .api_base(mock.base_url())
        .oapi_base(mock.base_url())
        .retry(Retry {
            attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        })
        .throttle_wait(Duration::ZERO)
        .build()
        .unwrap();
    dt.set_suite_ticket(Secret::new("ticket-secret-1"))
        .await
        .unwrap();
    dt.corp("dingcorp")
        .set_grant(["qyapi_hrm_read_user"])
        .await
        .unwrap();
    async fn list(State(corp): State<Principal>) -> Result<String, dingscope::Error> {
        let v: Value = corp
            .get("/v1.0/hrm/employees/dismissions")
            .query("maxResults", 50)
            .send()
            .await?;
        Ok(v.to_string())
    }
    let app = axum::Router::new()
        .route("/list", axum::routing::get(list))
        .with_state(dt.corp("dingcorp"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let get = || reqwest::get(format!("http://{addr}/list"));
    assert_eq!(get().await.unwrap().status(), 200);
    // DingTalk failing: 502, and nothing of DingTalk's answer.
    mock.inject(
        dingscope_mock::Target::Api,
        dingscope_mock::Fault::Status(500),
    );
    let r = get().await.unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "dingtalk");
    // Throttled: 429 with when to come back.
    mock.throttle_for(Duration::from_secs(2), 2);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    let after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&after), "{after}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "throttled");
    // The corp stopped the app: 403 `appStopped`, nothing sent.
    let sent = mock.all_api_requests();
    dt.apply(&dingscope::client::Event::AppStopped {
        corp_id: "dingcorp".into(),
    })
    .await
    .unwrap();
    let r = get().await.unwrap();
    assert_eq!(r.status(), 403);
    let text = r.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"],
        "appStopped"
    );
    assert_eq!(mock.all_api_requests(), sent);
    for secret in ["suite-secret-1", "ticket-secret-1"] {
        assert!(!text.contains(secret));
    }
}

/// The openAuth answer as an extractor: a page's JSON is read, anything else refused with a
/// JSON 400 (415, 413), and the handler never runs.
#[tokio::test]
async fn an_open_auth_answer_is_extracted_or_refused() {
    use dingscope::wire::{MAX_ANSWER_BYTES, OpenAuthAnswer};
    async fn granted(answer: OpenAuthAnswer) -> String {
        format!("{:?} {}", answer.status, answer.request.rpc_scope)
    }
    let app = axum::Router::new().route("/api/openauth", axum::routing::post(granted));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let post = |content_type: &'static str, body: String| {
        http.post(format!("http://{addr}/api/openauth"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let ok = post(
        "application/json; charset=utf-8",
        r#"{"status":"ok","request":{"rpcScope":"qyapi_hrm_read_user","type":1}}"#.into(),
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "Ok qyapi_hrm_read_user");
    for (content_type, body, status) in [
        (
            "application/json",
            r#"{"status":"granted","request":{"type":1}}"#.to_owned(),
            400,
        ),
        ("application/json", "not json".to_owned(), 400),
        (
            "text/plain",
            r#"{"status":"ok","request":{"type":1}}"#.to_owned(),
            415,
        ),
        ("application/json", "x".repeat(MAX_ANSWER_BYTES + 1), 413),
    ] {
        let r = post(content_type, body).await.unwrap();
        assert_eq!(r.status(), status, "{content_type}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"], "badRequest");
    }
}
