//! Stream mode: DingTalk's pushes over one WebSocket per app, applied to the client by
//! themselves (feature `stream`).
//!
//! The WebSocket is `tokio-websockets` over this client's rustls configuration. (It logs
//! nothing: a WebSocket library that logs frames would write the suite ticket, which
//! arrives in a frame, to the application's logs.)
//!
//! [`DingTalk::stream`] opens a connection (`POST /v1.0/gateway/connections/open` with the
//! app's or suite's key and secret, then a WebSocket to the endpoint it answers), answers
//! DingTalk's pings, acknowledges every event, skips the ones it has seen (by `messageId`,
//! 10,000 kept for 5 minutes, as DingTalk's own SDKs do), applies them to the client
//! ([`DingTalk::apply`]), hands them to the app's handler, and reconnects after a
//! `disconnect` or a dropped socket with a capped exponential backoff and jitter.
//!
//! DingTalk delivers an app's events to one connection, so a fleet holds one: a lease in
//! the store names the instance holding it, and another takes over within the lease's
//! lifetime when the holder dies.
//!
//! ```no_run
//! # async fn demo(dt: dingscope::client::DingTalk) {
//! use dingscope::client::Event;
//!
//! let stream = dt
//!     .stream()
//!     .on_event(|event: Event| async move {
//!         println!("{event:?}");
//!         Ok(())
//!     })
//!     .start();
//! // ... until the service stops:
//! stream.shutdown().await;
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_websockets::{Limits, Message};

use super::DingTalk;
use super::events::{Event, RawEvent, from_millis};
use super::recent::Recent;
use super::transport::{Outgoing, tls_config};
use crate::Error;

/// What an event handler answers: `Err` asks DingTalk to deliver the event again later.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

type Handler =
    Arc<dyn Fn(Event) -> Pin<Box<dyn Future<Output = HandlerResult> + Send>> + Send + Sync>;

/// The longest frame read, in bytes.
const MAX_FRAME: usize = 1 << 20;

/// Settings of a Stream connection; [`DingTalk::stream`] makes one.
pub struct StreamBuilder {
    dt: DingTalk,
    handler: Option<Handler>,
    max_handlers: usize,
    min_backoff: Duration,
    max_backoff: Duration,
    lease: Duration,
}

impl std::fmt::Debug for StreamBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamBuilder")
            .field("max_handlers", &self.max_handlers)
            .field("min_backoff", &self.min_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// The connection's state, as [`StreamHandle::state`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Connection {
    /// Opening a connection.
    Connecting,
    /// Connected: events arrive.
    Connected,
    /// Waiting before the next attempt, after a failure or a `disconnect`.
    Reconnecting {
        /// Failed attempts in a row.
        attempt: u32,
        /// Why the last one ended.
        reason: String,
    },
    /// Another instance holds the app's connection; this one takes over if it goes.
    Standby,
    /// Shut down.
    Stopped,
}

/// What a running Stream client reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamState {
    /// The connection.
    pub connection: Connection,
    /// Events received and acknowledged, repeats included.
    pub events: u64,
    /// The type and arrival time of the last event.
    pub last_event: Option<(String, SystemTime)>,
}

/// A running Stream client: its state, and its shutdown.
#[derive(Debug)]
pub struct StreamHandle {
    state: watch::Receiver<StreamState>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl StreamHandle {
    /// The state now.
    pub fn state(&self) -> StreamState {
        self.state.borrow().clone()
    }

    /// Waits until the state satisfies `f`.
    pub async fn wait_for(&self, f: impl Fn(&StreamState) -> bool) -> StreamState {
        let mut rx = self.state.clone();
        match rx.wait_for(|s| f(s)).await {
            Ok(s) => s.clone(),
            Err(_) => self.state(),
        }
    }

    /// Stops: the events being handled finish and are acknowledged, the socket closes,
    /// and the lease is released for another instance.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }

    /// Stops at once, as a crashed instance would: no goodbye, and the lease is left to
    /// expire. For tests of a fleet.
    pub fn abort(self) {
        self.task.abort();
    }
}

impl DingTalk {
    /// A Stream client for this app: the suite's key and secret for an ISV app, the app's
    /// for an internal one; DingTalk's gateway at the configured `api_base`.
    pub fn stream(&self) -> StreamBuilder {
        StreamBuilder {
            dt: self.clone(),
            handler: None,
            max_handlers: 100,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            lease: Duration::from_secs(30),
        }
    }
}

impl StreamBuilder {
    /// The app's handler, given every event after the client has applied it. An `Err`
    /// acknowledges the event with `LATER`, and DingTalk delivers it again.
    pub fn on_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.handler = Some(Arc::new(move |e| Box::pin(f(e))));
        self
    }

    /// Events handled at once, at most (default 100, as DingTalk's SDK).
    pub fn max_handlers(mut self, n: usize) -> Self {
        self.max_handlers = n.clamp(1, 10_000);
        self
    }

    /// The pause before reconnecting: from `min` (default 1 s), doubling to `max`
    /// (default 60 s), each with ±50% jitter.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// How long the connection's lease lasts in the store unless renewed (default 30 s);
    /// it is renewed every third of that. Another instance takes over within this time
    /// after the holder dies.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(300));
        self
    }

    /// Starts the client on the current Tokio runtime.
    pub fn start(self) -> StreamHandle {
        let (state_tx, state) = watch::channel(StreamState {
            connection: Connection::Connecting,
            events: 0,
            last_event: None,
        });
        let (stop, stop_rx) = watch::channel(false);
        let runner = Runner {
            dt: self.dt,
            handler: self.handler,
            handlers: Arc::new(Semaphore::new(self.max_handlers)),
            max_handlers: u32::try_from(self.max_handlers).unwrap_or(u32::MAX),
            min_backoff: self.min_backoff,
            max_backoff: self.max_backoff,
            lease: self.lease,
            owner: super::token::random_owner(),
            state: state_tx,
            stop: stop_rx,
            seen: Recent::new(SEEN_MAX, SEEN_FOR),
        };
        let task = tokio::spawn(runner.run());
        StreamHandle { state, stop, task }
    }
}

/// How an open connection ended.
enum Ended {
    /// The client was shut down.
    Shutdown,
    /// DingTalk said `disconnect`, or closed the socket.
    Closed(String),
    /// Another instance took the lease.
    LeaseLost,
}

struct Runner {
    dt: DingTalk,
    handler: Option<Handler>,
    handlers: Arc<Semaphore>,
    max_handlers: u32,
    min_backoff: Duration,
    max_backoff: Duration,
    lease: Duration,
    owner: String,
    state: watch::Sender<StreamState>,
    stop: watch::Receiver<bool>,
    seen: Seen,
}

impl Runner {
    async fn run(mut self) {
        let lease_key = self.dt.inner.keys.stream_lease(self.dt.client_id());
        let mut failures = 0u32;
        while !*self.stop.borrow() {
            match self
                .dt
                .inner
                .store
                .try_lock(&lease_key, &self.owner, self.lease)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    self.set(Connection::Standby);
                    self.pause(self.lease / 3).await;
                    continue;
                }
                Err(e) => {
                    // Without the store, this instance holds the connection alone.
                    tracing::warn!(error = %e, "stream lease store unavailable; connecting anyway");
                }
            }
            self.set(Connection::Connecting);
            let ended = self.connect_and_serve(&lease_key).await;
            match ended {
                Ok(Ended::Shutdown) => break,
                Ok(Ended::LeaseLost) => {
                    failures = 0;
                    continue;
                }
                Ok(Ended::Closed(reason)) => {
                    tracing::info!(%reason, "stream connection closed; reconnecting");
                    failures = 0;
                    self.set(Connection::Reconnecting { attempt: 0, reason });
                    self.pause(self.min_backoff / 4).await;
                }
                Err(e) => {
                    failures += 1;
                    let wait = self.backoff(failures);
                    tracing::warn!(error = %e, attempt = failures, wait_ms = wait.as_millis() as u64, "stream connection failed; retrying");
                    self.set(Connection::Reconnecting {
                        attempt: failures,
                        reason: e.to_string(),
                    });
                    let _ = self.dt.inner.store.unlock(&lease_key, &self.owner).await;
                    self.pause(wait).await;
                }
            }
        }
        let _ = self.dt.inner.store.unlock(&lease_key, &self.owner).await;
        self.set(Connection::Stopped);
    }

    fn set(&self, connection: Connection) {
        self.state.send_modify(|s| s.connection = connection);
    }

    fn backoff(&self, failures: u32) -> Duration {
        let exp = self
            .min_backoff
            .saturating_mul(1 << failures.saturating_sub(1).min(16));
        super::retry::jittered(exp.min(self.max_backoff), super::retry::next_random())
    }

    /// Sleeps `d`, or less if the client is shut down.
    async fn pause(&mut self, d: Duration) {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = stopped(&mut stop) => {}
        }
    }

    /// Opens a connection and serves it until it ends.
    async fn connect_and_serve(&mut self, lease_key: &str) -> Result<Ended, Error> {
        let url = self.open().await?;
        let uri: http::Uri = url
            .parse()
            .map_err(|_| Error::Config("the stream endpoint is not a URL".into()))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(tls_config()?));
        let connector = match uri.scheme_str() {
            Some("wss") => tokio_websockets::Connector::Rustls(tls),
            _ => tokio_websockets::Connector::Plain,
        };
        let builder = tokio_websockets::ClientBuilder::from_uri(uri.clone())
            .limits(Limits::default().max_payload_len(Some(MAX_FRAME)));
        let connect = async {
            let host = uri
                .host()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let port = uri
                .port_u16()
                .unwrap_or(if uri.scheme_str() == Some("wss") {
                    443
                } else {
                    80
                });
            let tcp = tokio::net::TcpStream::connect((host, port)).await?;
            // Acks are small frames: sent at once, not held for more.
            tcp.set_nodelay(true)?;
            let stream = connector.wrap(host, tcp).await?;
            builder.connect_on(stream).await
        };
        let (socket, _) = tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .map_err(|_| Error::Config("the stream endpoint did not answer in 10 s".into()))?
            .map_err(|e: tokio_websockets::Error| {
                Error::Config(format!("the stream WebSocket failed: {}", ws_error(&e)))
            })?;
        self.set(Connection::Connected);
        tracing::info!("stream connected");
        let (mut sink, mut source) = socket.split();
        let (out_tx, mut out_rx) = mpsc::channel::<String>(1024);
        let mut renew = tokio::time::interval(self.lease / 3);
        renew.tick().await;
        let mut stop = self.stop.clone();
        let ended = loop {
            tokio::select! {
                _ = stopped(&mut stop) => break Ended::Shutdown,
                _ = renew.tick() => {
                    match self.dt.inner.store.extend_lock(lease_key, &self.owner, self.lease).await {
                        Ok(true) => {}
                        Ok(false) => break Ended::LeaseLost,
                        Err(e) => tracing::warn!(error = %e, "could not renew the stream lease"),
                    }
                }
                Some(reply) = out_rx.recv() => {
                    if let Err(e) = sink.send(Message::text(reply)).await {
                        break Ended::Closed(format!("send failed: {}", ws_error(&e)));
                    }
                }
                frame = source.next() => match frame {
                    Some(Ok(m)) if m.is_text() => {
                        if let Some(closed) = self.on_frame(m.as_text().unwrap_or_default(), &out_tx).await {
                            break closed;
                        }
                    }
                    Some(Ok(m)) if m.is_close() => break Ended::Closed("the socket closed".into()),
                    None => break Ended::Closed("the socket closed".into()),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Ended::Closed(ws_error(&e)),
                },
            }
        };
        if matches!(ended, Ended::Shutdown) {
            // The events being handled finish (for up to 10 s), and their acks go out.
            let all = self.handlers.clone().acquire_many_owned(self.max_handlers);
            tokio::pin!(all);
            let give_up = tokio::time::sleep(Duration::from_secs(10));
            tokio::pin!(give_up);
            loop {
                tokio::select! {
                    _ = &mut all => break,
                    _ = &mut give_up => break,
                    Some(reply) = out_rx.recv() => {
                        let _ = sink.send(Message::text(reply)).await;
                    }
                }
            }
        }
        // The acknowledgements of events already handled still go out.
        while let Ok(reply) = out_rx.try_recv() {
            let _ = sink.send(Message::text(reply)).await;
        }
        let _ = sink.close().await;
        Ok(ended)
    }

    /// `POST /v1.0/gateway/connections/open`: the WebSocket URL, ticket included.
    async fn open(&self) -> Result<String, Error> {
        #[derive(Deserialize)]
        struct Opened {
            endpoint: String,
            ticket: String,
        }
        let dt = &self.dt;
        let body = json!({
            "clientId": dt.client_id(),
            "clientSecret": dt.inner.app.secret().expose(),
            "subscriptions": [{"type": "EVENT", "topic": "*"}],
            "ua": concat!("dingscope/", env!("CARGO_PKG_VERSION")),
            "localIp": "",
        });
        let url = format!("{}/v1.0/gateway/connections/open", dt.inner.api_base);
        let reply = dt
            .inner
            .http
            .send(Outgoing {
                method: http::Method::POST,
                url: &url,
                headers: &[],
                json: Some(serde_json::to_vec(&body).map_err(Error::Encode)?),
            })
            .await
            .map_err(|f| {
                Error::Config(format!(
                    "opening a stream connection failed: {}",
                    f.describe()
                ))
            })?;
        if !(200..300).contains(&reply.status) {
            return Err(Error::Config(format!(
                "DingTalk refused to open a stream connection (HTTP {}): check the app's key and secret",
                reply.status
            )));
        }
        let opened: Opened = serde_json::from_slice(&reply.body).map_err(|_| {
            Error::Config(
                "the stream gateway answered something else than {endpoint, ticket}".into(),
            )
        })?;
        super::builder::check_ws(&opened.endpoint, dt.inner.allow_http)?;
        let ticket: String = form_urlencoded::byte_serialize(opened.ticket.as_bytes()).collect();
        Ok(format!("{}?ticket={ticket}", opened.endpoint))
    }

    /// Serves one frame; `Some` if the connection is to end.
    async fn on_frame(&mut self, text: &str, out: &mpsc::Sender<String>) -> Option<Ended> {
        let frame = match parse_frame(text) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "a stream frame that is not DingTalk's; skipped");
                return None;
            }
        };
        match frame.kind.as_str() {
            "SYSTEM" => match frame.headers.topic.as_deref() {
                Some("ping") => {
                    let _ = out
                        .send(ack(&frame.headers.message_id, "OK", frame.data))
                        .await;
                    None
                }
                Some("disconnect") => Some(Ended::Closed("DingTalk asked to reconnect".into())),
                other => {
                    tracing::debug!(topic = ?other, "a system frame of another topic");
                    None
                }
            },
            "EVENT" => {
                self.on_event(frame, out.clone());
                None
            }
            "CALLBACK" => {
                let _ = out
                    .send(ack(
                        &frame.headers.message_id,
                        "OK",
                        json!({"response": {}}).to_string(),
                    ))
                    .await;
                None
            }
            other => {
                tracing::debug!(kind = other, "a stream frame of another type; skipped");
                None
            }
        }
    }

    /// Handles an event in its own task (at most `max_handlers` at once) and acks it.
    fn on_event(&mut self, frame: Frame, out: mpsc::Sender<String>) {
        let id = frame.headers.message_id.clone();
        let event_type = frame.headers.event_type.clone().unwrap_or_default();
        self.state.send_modify(|s| {
            s.events += 1;
            s.last_event = Some((event_type.clone(), SystemTime::now()));
        });
        // A handled event is acked again; one answered `LATER` is handled again.
        if let Some(status) = self.seen.get(&id).filter(|ok| *ok) {
            tracing::debug!("a repeated stream event; acknowledged again, not handled");
            let _ = out.try_send(ack_event(&id, status));
            return;
        }
        let dt = self.dt.clone();
        let handler = self.handler.clone();
        let handlers = self.handlers.clone();
        let seen = self.seen.clone();
        tokio::spawn(async move {
            let Ok(_permit) = handlers.acquire_owned().await else {
                return;
            };
            let status = handle(&dt, handler.as_ref(), frame).await;
            seen.put(&id, status);
            let _ = out.send(ack_event(&id, status)).await;
        });
    }
}

/// Resolves once the client is shut down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Applies an event and runs the app's handler: `true` for `SUCCESS`, `false` for `LATER`.
async fn handle(dt: &DingTalk, handler: Option<&Handler>, frame: Frame) -> bool {
    let data = match serde_json::from_str::<Value>(&frame.data) {
        Ok(v) => v,
        Err(_) if frame.data.is_empty() => Value::Null,
        Err(e) => {
            tracing::error!(error = %e, "a stream event whose data is not JSON; acknowledged and dropped");
            return true;
        }
    };
    let raw = RawEvent {
        event_type: frame.headers.event_type.unwrap_or_default(),
        corp_id: frame.headers.event_corp_id,
        event_id: frame.headers.event_id,
        born_at: frame.headers.event_born_time.map(from_millis),
        data,
    };
    let event = match Event::parse(raw) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "a stream event that cannot be read; acknowledged and dropped");
            return true;
        }
    };
    if let Err(e) = dt.apply(&event).await {
        tracing::error!(error = %e, "a stream event could not be applied; DingTalk will deliver it again");
        return false;
    }
    match handler {
        Some(h) => match h(event).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "the event handler failed; DingTalk will deliver the event again");
                false
            }
        },
        None => true,
    }
}

/// A frame as DingTalk sends it.
#[derive(Debug)]
pub(crate) struct Frame {
    kind: String,
    headers: Headers,
    data: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Headers {
    #[serde(default)]
    message_id: String,
    topic: Option<String>,
    event_type: Option<String>,
    event_id: Option<String>,
    event_corp_id: Option<String>,
    #[serde(default, deserialize_with = "millis")]
    event_born_time: Option<u64>,
}

/// A number of milliseconds, written as a number or a string.
fn millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Reads a frame: JSON with `type`, `headers` (a `messageId`) and `data` (a string).
pub(crate) fn parse_frame(text: &str) -> Result<Frame, String> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        headers: Headers,
        #[serde(default)]
        data: Option<Value>,
    }
    let raw: Raw = serde_json::from_str(text).map_err(|e| format!("not a frame: {e}"))?;
    if raw.headers.message_id.is_empty() {
        return Err("a frame without headers.messageId".into());
    }
    let data = match raw.data {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
    };
    Ok(Frame {
        kind: raw.kind,
        headers: raw.headers,
        data,
    })
}

fn ack(message_id: &str, message: &str, data: String) -> String {
    json!({
        "code": 200,
        "headers": {"contentType": "application/json", "messageId": message_id},
        "message": message,
        "data": data,
    })
    .to_string()
}

fn ack_event(message_id: &str, success: bool) -> String {
    let status = if success { "SUCCESS" } else { "LATER" };
    ack(message_id, "OK", json!({"status": status}).to_string())
}

fn ws_error(e: &tokio_websockets::Error) -> String {
    // The URL holds the connection ticket: only the kind of error is told, never a URL.
    use tokio_websockets::Error as E;
    match e {
        E::Io(io) => format!("I/O: {}", io.kind()),
        E::Protocol(p) => format!("protocol: {p}"),
        E::PayloadTooLong { len, max_len } => {
            format!("a frame of {len} bytes, over the limit of {max_len}")
        }
        E::Upgrade(u) => format!("the upgrade failed: {u}"),
        _ => "the WebSocket failed".into(),
    }
}

/// The results of events seen lately, by `messageId`: 10,000 for 5 minutes, as DingTalk's
/// SDKs keep them.
type Seen = Recent<bool>;

const SEEN_MAX: usize = 10_000;
const SEEN_FOR: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_in_their_shapes() {
        let f = parse_frame(r#"{"specVersion":"1.0","type":"EVENT","headers":{"messageId":"m1","eventType":"suite_ticket","eventBornTime":"1700000000000","eventCorpId":"dingA"},"data":"{\"suiteTicket\":\"t\"}"}"#).unwrap();
        assert_eq!(f.kind, "EVENT");
        assert_eq!(f.headers.event_born_time, Some(1_700_000_000_000));
        assert_eq!(f.data, r#"{"suiteTicket":"t"}"#);
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"type":"EVENT"}"#,
            r#"{"type":"EVENT","headers":{"messageId":""}}"#,
            "\u{0}",
        ] {
            assert!(parse_frame(bad).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Any text, and any JSON frame of any shape: the parsers answer, never panic,
        /// and whatever parses as a frame yields an event or a typed error.
        #[test]
        fn frames_and_events_never_panic(text in "\\PC{0,300}", kind in "[A-Z]{0,8}", id in "\\PC{0,20}", event in "[a-z_]{0,24}", data in "\\PC{0,200}", born in proptest::option::of(proptest::num::u64::ANY)) {
            let _ = parse_frame(&text);
            let frame = json!({"type": kind, "headers": {"messageId": id, "eventType": event, "eventBornTime": born}, "data": data}).to_string();
            if let Ok(f) = parse_frame(&frame) {
                let raw = RawEvent {
                    event_type: f.headers.event_type.unwrap_or_default(),
                    corp_id: f.headers.event_corp_id,
                    event_id: None,
                    born_at: f.headers.event_born_time.map(from_millis),
                    data: serde_json::from_str(&f.data).unwrap_or(Value::Null),
                };
                let _ = Event::parse(raw);
            }
            for event in ["suite_ticket", "org_suite_auth", "org_suite_relieve", "org_micro_app_stop"] {
                let data: Value = serde_json::from_str(&data).unwrap_or(json!({"suiteTicket": data.clone(), "authCorpInfo": {"corpId": data.clone()}}));
                let _ = Event::parse(RawEvent { event_type: event.into(), corp_id: None, event_id: None, born_at: None, data });
            }
        }
    }
}
