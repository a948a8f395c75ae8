//! DingTalk's pushes by SyncHTTP: an axum app mounts the callback route in one line, and
//! the mock DingTalk pushes to it, encrypted, as DingTalk does: the suite ticket, then a
//! corp authorizing the app. The app answers each with the encrypted `success`.
//!
//! `cargo run -p dingscope-examples --example callback`

use std::time::Duration;

use dingscope::Secret;
use dingscope::client::callback::{CallbackCrypto, CallbackHandler, route};
use dingscope::client::{App, DingTalk, Event};
use dingscope_mock::{MockDingTalk, sync_http};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    dingscope_examples::init_logging();
    let mock = MockDingTalk::start().await?;
    mock.add_suite("suite-key", "suite-secret");
    mock.authorize_corp("suite-key", "dingcorp");
    mock.push_suite_ticket("suite-key", "ticket-by-sync-http");
    let dt = DingTalk::builder(App::isv("suite-key", Secret::new("suite-secret")))
        .api_base(mock.base_url())
        .build()?;

    // The console's callback settings: a token, an EncodingAESKey, and the suite key.
    let encoding_aes_key = Secret::new("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7");
    let crypto = CallbackCrypto::new(
        Secret::new("callback-token"),
        &encoding_aes_key,
        "suite-key",
    )?;
    let handler =
        CallbackHandler::new(dt.clone(), crypto.clone()).on_event(|event: Event| async move {
            println!("app: DingTalk pushed {event:?}");
            Ok(())
        });
    let app = axum::Router::new().route("/dingtalk/callback", route(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/dingtalk/callback", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("app: callback URL {url}");

    // DingTalk checks the URL, then pushes the ticket and the corp's authorization.
    let pauses = [Duration::from_secs(10), Duration::from_secs(30)];
    let check = sync_http::push(&url, &crypto, &json!({"EventType": "check_url"}), &pauses).await;
    println!("DingTalk: check_url answered: {check:?}");
    let rows = sync_http::payload(&[
        (
            2,
            "dingsuite",
            json!({"syncAction": "suite_ticket", "suiteTicket": "ticket-by-sync-http", "syncSeq": "1"}),
        ),
        (
            4,
            "dingcorp",
            json!({"syncAction": "org_suite_auth", "auth_corp_info": {"corpid": "dingcorp", "corp_name": "Callback Corp"}}),
        ),
    ]);
    let pushed = sync_http::push(&url, &crypto, &rows, &pauses).await;
    println!("DingTalk: SyncHTTP push answered: {pushed:?}");

    println!(
        "app: the corp registry: {:?}",
        dt.corp_info("dingcorp").await?
    );
    dt.corp("dingcorp").access_token().await?;
    println!(
        "app: a corp token fetched with the pushed ticket ({} token request)",
        mock.token_requests()
    );
    Ok(())
}
