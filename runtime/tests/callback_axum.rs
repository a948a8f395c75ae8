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
