//! The mock's stand-in for openAuth (`POST /mock/openAuth`): it checks openAuth's options
//! as the component does and answers as it resolves, and it answers a page across origins
//! only when told of the page.

use dingscope_mock::MockDingTalk;
use serde_json::{Value, json};

async fn mock() -> MockDingTalk {
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite("suite-key", "suite-secret", "ticket", "dingcorp");
    mock.personal_codes(["Contact.User.Read", "snsapi_base"]);
    mock
}

async fn open_auth(mock: &MockDingTalk, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/mock/openAuth", mock.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn error_code(answer: &Value) -> Option<i64> {
    (answer["status"] == "failed")
        .then(|| answer["result"]["errorCode"].as_i64())
        .flatten()
}

#[tokio::test]
async fn options_are_checked_as_the_component_does() {
    let mock = mock().await;
    let base = json!({"clientId": "suite-key", "corpId": "dingcorp"});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    for (body, code) in [
        // The mixed list the old generated module exported, with either type.
        (
            with(
                json!({"rpcScope": "Contact.User.Read,qyapi_hrm_read_user,snsapi_base", "type": 1}),
            ),
            500204,
        ),
        (
            with(
                json!({"rpcScope": "Contact.User.Read,qyapi_hrm_read_user,snsapi_base", "type": 0}),
            ),
            500205,
        ),
        (
            with(json!({"rpcScope": "Contact.User.mobile", "type": 0})),
            500202,
        ),
        (
            with(json!({"fieldScope": "Contact.User.Read", "type": 0})),
            500203,
        ),
        (with(json!({"rpcScope": "not a code", "type": 1})), 500201),
        (
            json!({"corpId": "dingcorp", "rpcScope": "qyapi_hrm_read_user", "type": 1}),
            400001,
        ),
        (
            json!({"clientId": "other", "corpId": "dingcorp", "rpcScope": "qyapi_hrm_read_user", "type": 1}),
            500101,
        ),
        (
            with(json!({"rpcScope": "qyapi_hrm_read_user", "type": 2})),
            400002,
        ),
        (
            json!({"clientId": "suite-key", "rpcScope": "qyapi_hrm_read_user", "type": 1}),
            400003,
        ),
        (with(json!({"type": 1})), 400004),
        (
            with(json!({"rpcScope": "Contact.User.Read", "type": 0, "decision": "toAdmin"})),
            400005,
        ),
    ] {
        let answer = open_auth(&mock, body.clone()).await;
        assert_eq!(error_code(&answer), Some(code), "{body}: {answer}");
    }
    assert_eq!(
        mock.open_auth_requests().len(),
        11,
        "every request is logged"
    );
    let me = |mock: &MockDingTalk| mock.open_auth_requests().last().cloned().unwrap();
    // `type` as a string, as the typing allows; a refusal and a request to an admin grant
    // nothing; `ok` grants.
    for (decision, status) in [("cancel", "cancel"), ("toAdmin", "toAdmin"), ("ok", "ok")] {
        let answer = open_auth(
            &mock,
            with(json!({"rpcScope": "qyapi_hrm_read_user", "type": "1", "decision": decision})),
        )
        .await;
        assert_eq!(answer["status"], status, "{answer}");
        assert_eq!(me(&mock)["decision"], decision);
    }
    // Type 0 answers the one-time authCode.
    let answer = open_auth(
        &mock,
        with(json!({"rpcScope": "Contact.User.Read", "fieldScope": "Contact.User.mobile", "type": 0, "userId": "u1"})),
    )
    .await;
    assert_eq!(answer["status"], "ok");
    assert!(answer["result"]["authCode"].as_str().is_some(), "{answer}");
}

/// The page the example serves may call the stand-in from its own origin; any other page
/// still cannot, by a preflight or by a simple request.
#[tokio::test]
async fn only_a_page_the_mock_was_told_of_calls_across_origins() {
    let mock = mock().await;
    let page = "http://127.0.0.1:1234";
    mock.allow_origin(page);
    let http = reqwest::Client::new();
    let url = format!("{}/mock/openAuth", mock.base_url());
    let preflight = |origin: &str| {
        http.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(page).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], page);
    let foreign = preflight("http://evil.example").await.unwrap();
    assert_eq!(foreign.status(), 403);
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let body = json!({"clientId": "suite-key", "corpId": "dingcorp", "rpcScope": "qyapi_hrm_read_user", "type": 1});
    let post = |origin: &str| http.post(&url).header("origin", origin).json(&body).send();
    let answer = post(page).await.unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], page);
    assert_eq!(answer.json::<Value>().await.unwrap()["status"], "ok");
    let refused = post("http://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    // The told-of origin reaches openAuth's stand-in only.
    let token = http
        .post(format!("{}/v1.0/oauth2/corpAccessToken", mock.base_url()))
        .header("origin", page)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(token.headers().get("access-control-allow-origin").is_none());
}
