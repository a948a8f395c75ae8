//! Secrets (app and suite secrets, suite tickets, access and refresh tokens, auth codes)
//! never reach logs, `Debug`, `Display` or errors. Every `tracing` event and every `log`
//! record (reqwest, hyper and rustls log through `log`) at every level is recorded while a
//! whole flow runs, faults included, and searched for each secret.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingscope::client::{App, DingTalk, Retry};
use dingscope::{Secret, WithGrantExt};
use dingscope_mock::{Fault, MockDingTalk, Target};
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<String>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        let mut log = self.0.lock().unwrap();
        attrs.record(&mut Line(&mut log));
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, values: &span::Record<'_>) {
        values.record(&mut Line(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut log = self.0.lock().unwrap();
        let _ = write!(
            log,
            "\n{} {}",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Line(&mut log));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

impl log::Log for Recorder {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let mut log = self.0.lock().unwrap();
        let _ = write!(
            log,
            "\n{} {} {}",
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

#[tokio::test]
async fn no_secret_in_any_log_or_error() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(recorder.clone()).unwrap();
    log::set_boxed_logger(Box::new(recorder.clone())).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let suite_secret = "SUITE-SECRET-4f2a";
    let ticket = "SUITE-TICKET-9c1d";
    let stream_ticket = "SUITE-TICKET-BY-STREAM-77e0";
    let callback_token = "CALLBACK-TOKEN-51b3";
    let callback_key = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
    let callback_ticket = "SUITE-TICKET-BY-SYNC-HTTP-0a9c";
    let mock = MockDingTalk::start().await.unwrap();
    mock.install_suite("suite", suite_secret, ticket, "corp");
    mock.grant_corp("corp", ["qyapi_hrm_read_user"]);
    let dt = DingTalk::builder(App::isv("suite", Secret::new(suite_secret)))
        .api_base(mock.base_url())
        .oapi_base(mock.base_url())
        .retry(Retry {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let mut printed = String::new();
    dt.set_suite_ticket(Secret::new(ticket)).await.unwrap();
    let corp = dt.corp("corp");
    corp.set_grant(["qyapi_hrm_read_user"]).await.unwrap();
    let get = || {
        corp.get("/v1.0/hrm/employees/dismissions")
            .send::<serde_json::Value>()
    };
    get().await.unwrap();
    for fault in [
        Fault::Throttle,
        Fault::Status(500),
        Fault::ExpiredToken,
        Fault::MalformedJson,
    ] {
        mock.inject(Target::Api, fault);
        if let Err(e) = get().await {
            let _ = write!(printed, "{e} {e:?}");
        }
    }
    mock.inject(Target::Token, Fault::RejectCredentials);
    mock.expire_all_tokens();
    if let Err(e) = get().await {
        let _ = write!(printed, "{e} {e:?}");
    }
    mock.inject(Target::Token, Fault::ExpireIn(0));
    let _ = get().await;
    let code = mock.grant_user("corp", "u1", ["Contact.User.Read", "snsapi_base"]);
    let user = dt.user("corp", "u1");
    user.exchange_code(Secret::new(code.clone())).await.unwrap();
    user.refresh_user_grant().await.unwrap();
    // A page's openAuth answer carries its authCode: recorded, and refused for another user.
    let page_code = mock.grant_user("corp", "u2", ["Contact.User.Read", "snsapi_base"]);
    let answer: dingscope::wire::OpenAuthAnswer = serde_json::from_str(&format!(
        r#"{{"status":"ok","request":{{"rpcScope":"Contact.User.Read","type":0}},"authCode":"{page_code}"}}"#
    ))
    .unwrap();
    let recorded = dt.user("corp", "u2").record(&answer).await;
    let refused = dt.user("corp", "u3").record(&answer).await;
    let _ = write!(printed, "{answer:?} {recorded:?} {refused:?}");
    if let Err(e) = &refused {
        let _ = write!(printed, "{e}");
    }
    mock.expire_all_tokens();
    let _: serde_json::Value = user.get("/v1.0/contact/users/me").send().await.unwrap();
    // Old API: the token travels in the query string.
    mock.inject(Target::Api, Fault::Status(503));
    let old = corp
        .post("/topapi/smartwork/hrm/employee/querydimission")
        .json(&serde_json::json!({"offset": 0, "size": 5}))
        .send::<serde_json::Value>()
        .with_grant(&dingscope::Grant::application(["qyapi_hrm_read_user"]))
        .await;
    let _ = write!(printed, "{old:?} {dt:?} {corp:?} {user:?}");
    // Stream mode: the suite secret opens the connection, and a new ticket arrives in a
    // frame; neither may reach a log line. A frame that is not DingTalk's is logged as
    // an error, without its content.
    let stream = dt.stream().start();
    stream
        .wait_for(|s| s.connection == dingscope::client::stream::Connection::Connected)
        .await;
    assert!(mock.stream_connected().await);
    let id = mock.stream_suite_ticket("suite", stream_ticket).unwrap();
    mock.stream_send_raw(&format!("{{\"bad\": \"{stream_ticket}\"}}"));
    while !mock
        .stream_acks()
        .iter()
        .any(|a| a["headers"]["messageId"] == id)
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = write!(printed, "{:?}", stream.state());
    stream.shutdown().await;
    // SyncHTTP: the callback token and EncodingAESKey, and a ticket inside an encrypted
    // push, accepted and refused.
    let crypto = dingscope::client::callback::CallbackCrypto::new(
        Secret::new(callback_token),
        &Secret::new(callback_key),
        "suite",
    )
    .unwrap();
    let handler = dingscope::client::callback::CallbackHandler::new(dt.clone(), crypto.clone());
    let rows = dingscope_mock::sync_http::payload(&[(
        2,
        "dingsuite",
        serde_json::json!({"syncAction": "suite_ticket", "suiteTicket": callback_ticket}),
    )]);
    let encrypt = crypto.encrypt(&rows.to_string());
    let query = |sig: String| {
        vec![
            ("msg_signature".to_owned(), sig),
            ("timestamp".to_owned(), "1".to_owned()),
            ("nonce".to_owned(), "n".to_owned()),
        ]
    };
    let body = serde_json::json!({"encrypt": encrypt}).to_string();
    let reply = handler
        .handle(
            &query(crypto.signature("1", "n", &encrypt)),
            body.as_bytes(),
        )
        .await;
    let refused = handler
        .handle(&query("0".repeat(40)), body.as_bytes())
        .await;
    assert!(reply.is_ok() && refused.is_err(), "{reply:?} {refused:?}");
    let _ = write!(printed, "{reply:?} {refused:?} {crypto:?} {handler:?}");
    // The IP ban opens the app's breaker: last, since every later call would be held back.
    mock.inject(Target::Api, Fault::BanPage);
    if let Err(e) = get().await {
        let _ = write!(printed, "{e} {e:?}");
    }

    let log = recorder.0.lock().unwrap().clone();
    assert!(
        log.lines().count() > 5,
        "the recorder saw the retries and refreshes:\n{log}"
    );
    assert!(
        log.contains("stream"),
        "the recorder saw the stream client:\n{log}"
    );
    for secret in [
        suite_secret,
        ticket,
        stream_ticket,
        callback_token,
        callback_key,
        callback_ticket,
        &code,
    ] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
    }
    let issued = mock.issued_secrets();
    assert!(
        issued.len() >= 6,
        "tokens, refresh tokens and codes were issued: {issued:?}"
    );
    for secret in &issued {
        assert!(
            !log.contains(secret.as_str()),
            "{secret} in the log:\n{log}"
        );
        assert!(
            !printed.contains(secret.as_str()),
            "{secret} printed:\n{printed}"
        );
    }
}
