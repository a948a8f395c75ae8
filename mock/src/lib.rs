//! An embedded mock of DingTalk's open platform, on 127.0.0.1.
//!
//! It serves the token endpoints (internal app, ISV corp, unified, user, and the old
//! `/gettoken`), the HRM dismission APIs (new and old), `/v1.0/contact/users/me` and
//! `/v1.0/oauth2/authRules/user`, in the shapes DingTalk documents. Every
//! API checks the token's grant against its permission code from DingTalk's endpoint
//! catalog and denies in DingTalk's shapes. Tests stand in for the admin's click with
//! [`MockDingTalk::grant_corp`] (or `POST /mock/openAuth` over HTTP, which takes openAuth's
//! parameters and answers as openAuth does), and inject faults with [`MockDingTalk::inject`].
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let mock = dingscope_mock::MockDingTalk::start().await?;
//! mock.add_suite("suite-key", "suite-secret");
//! mock.push_suite_ticket("suite-key", "ticket-1");
//! mock.authorize_corp("suite-key", "ding-corp");
//! mock.grant_corp("ding-corp", ["qyapi_hrm_read_user"]);
//! println!("DingTalk at {}", mock.base_url());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod handlers;
pub mod raw;
mod state;
mod stream;
pub mod sync_http;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use handlers::required_codes;
pub use state::{DenialShape, Fault, Target, TokenKind};

use state::{App, Shared, State, Suite};

/// A running mock DingTalk. Stops when dropped.
pub struct MockDingTalk {
    addr: SocketAddr,
    state: Shared,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for MockDingTalk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockDingTalk")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockDingTalk {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub async fn start() -> std::io::Result<MockDingTalk> {
        MockDingTalk::bind("127.0.0.1:0".parse().expect("a socket address")).await
    }

    /// Starts on `addr`, which must be a loopback address.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<MockDingTalk> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the mock only listens on loopback addresses",
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state: Shared = Arc::new(Mutex::new(State::new()));
        let gateway = TcpListener::bind((addr.ip(), 0)).await?;
        state.lock().unwrap_or_else(|e| e.into_inner()).ws_endpoint =
            format!("ws://{}/connect", gateway.local_addr()?);
        let shared = state.clone();
        let gateway = stream::listen(state.clone(), gateway);
        let task = tokio::spawn(async move {
            let http = async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| serve(state.clone(), req));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            };
            tokio::join!(http, gateway);
        });
        Ok(MockDingTalk { addr, state, task })
    }

    /// `http://127.0.0.1:PORT`: the base URL of both the new and the old API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Registers an internal app of `corp_id`.
    pub fn add_app(&self, app_key: &str, app_secret: &str, corp_id: &str) {
        self.with(|s| {
            s.apps.insert(
                app_key.to_owned(),
                App {
                    secret: app_secret.to_owned(),
                    corp_id: corp_id.to_owned(),
                },
            )
        });
    }

    /// Registers an ISV suite (a third-party app).
    pub fn add_suite(&self, suite_key: &str, suite_secret: &str) {
        self.with(|s| {
            s.suites.insert(
                suite_key.to_owned(),
                Suite {
                    secret: suite_secret.to_owned(),
                    ticket: None,
                    corps: Default::default(),
                },
            )
        });
    }

    /// Pushes a new suite ticket; the previous one stops working, as on DingTalk.
    pub fn push_suite_ticket(&self, suite_key: &str, ticket: &str) {
        self.with(|s| {
            if let Some(x) = s.suites.get_mut(suite_key) {
                x.ticket = Some(ticket.to_owned());
            }
        });
    }

    /// A corp opens (installs) the suite.
    pub fn authorize_corp(&self, suite_key: &str, corp_id: &str) {
        self.with(|s| {
            if let Some(x) = s.suites.get_mut(suite_key) {
                x.corps.insert(corp_id.to_owned());
            }
        });
    }

    /// The usual ISV scene in one call: the suite `suite_key` with its secret, `ticket`
    /// pushed, and `corp_id` having installed it. Grant codes with [`grant_corp`](Self::grant_corp).
    pub fn install_suite(&self, suite_key: &str, suite_secret: &str, ticket: &str, corp_id: &str) {
        self.add_suite(suite_key, suite_secret);
        self.push_suite_ticket(suite_key, ticket);
        self.authorize_corp(suite_key, corp_id);
    }

    /// Lets the page at `origin` (`http://127.0.0.1:PORT`) call `POST /mock/openAuth`
    /// across origins, as openAuth's stand-in on a page the app serves does. Only that
    /// endpoint, and only these origins: another page still cannot grant anything.
    pub fn allow_origin(&self, origin: &str) {
        self.with(|s| s.allowed_origins.insert(origin.to_owned()));
    }

    /// Has `/mock/openAuth` check each rpc code's type as the component does: codes in
    /// `personal` may be asked for only with type 0 (its error 500204 otherwise), every
    /// other code only with type 1 (500205).
    pub fn personal_codes<I: IntoIterator<Item = S>, S: Into<String>>(&self, personal: I) {
        let set = personal.into_iter().map(Into::into).collect();
        self.with(|s| s.personal_codes = Some(set));
    }

    /// Every `POST /mock/openAuth` body received, in order: what openAuth was called with.
    pub fn open_auth_requests(&self) -> Vec<Value> {
        self.with(|s| s.open_auth_log.clone())
    }

    /// An admin grants application codes (openAuth type 1 answering `ok`).
    pub fn grant_corp<I: IntoIterator<Item = S>, S: Into<String>>(&self, corp_id: &str, codes: I) {
        self.with(|s| {
            s.corp_grants
                .entry(corp_id.to_owned())
                .or_default()
                .extend(codes.into_iter().map(Into::into))
        });
    }

    /// An admin revokes application codes.
    pub fn revoke_corp(&self, corp_id: &str, codes: &[&str]) {
        self.with(|s| {
            if let Some(g) = s.corp_grants.get_mut(corp_id) {
                g.retain(|c| !codes.contains(&c.as_str()));
            }
        });
    }

    /// A user grants delegated codes (openAuth type 0 answering `ok`); returns the one-time
    /// `authCode` that openAuth hands the front end.
    pub fn grant_user<I: IntoIterator<Item = S>, S: Into<String>>(
        &self,
        corp_id: &str,
        user: &str,
        codes: I,
    ) -> String {
        self.with(|s| {
            s.user_grants
                .entry((corp_id.to_owned(), user.to_owned()))
                .or_default()
                .extend(codes.into_iter().map(Into::into));
            let code = s.next_id("code");
            s.auth_codes
                .insert(code.clone(), (corp_id.to_owned(), user.to_owned()));
            s.issued_codes.push(code.clone());
            code
        })
    }

    /// Answers every API request for the next `length` with 429
    /// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` and `Retry-After: retry_after`
    /// (seconds), as a throttled app sees it.
    pub fn throttle_for(&self, length: std::time::Duration, retry_after: u64) {
        self.with(|s| {
            s.throttle_window = Some((std::time::Instant::now() + length, retry_after));
            s.window_refusals = 0;
        });
    }

    /// API requests refused by the window [`throttle_for`](Self::throttle_for) opened.
    pub fn window_refusals(&self) -> u64 {
        self.with(|s| s.window_refusals)
    }

    /// Pushes an EVENT frame of `event_type` (for `corp`, with `data`) to every live
    /// Stream connection; answers its `messageId`, or `None` if no client is connected.
    pub fn stream_push(&self, event_type: &str, corp: Option<&str>, data: Value) -> Option<String> {
        self.with(|s| {
            let id = s.next_id("msg");
            let frame = stream::event_frame(&id, event_type, corp, &data);
            s.gateway.pushed.push((id.clone(), frame.clone()));
            (s.gateway.broadcast(&stream::Command::Send(frame)) > 0).then_some(id)
        })
    }

    /// Pushes a new suite ticket by Stream, as DingTalk does every five hours: the suite's
    /// ticket becomes `ticket`, and a `suite_ticket` event carries it.
    pub fn stream_suite_ticket(&self, suite_key: &str, ticket: &str) -> Option<String> {
        self.push_suite_ticket(suite_key, ticket);
        self.stream_push(
            "suite_ticket",
            None,
            serde_json::json!({"suiteTicket": ticket, "syncAction": "suite_ticket"}),
        )
    }

    /// Sends the frame with `message_id` again, as DingTalk repeats an unacknowledged one.
    pub fn stream_repeat(&self, message_id: &str) -> bool {
        self.with(|s| {
            let frame = s
                .gateway
                .pushed
                .iter()
                .find(|(id, _)| id == message_id)
                .map(|(_, f)| f.clone());
            frame.is_some_and(|f| s.gateway.broadcast(&stream::Command::Send(f)) > 0)
        })
    }

    /// Sends a SYSTEM `ping` to every live connection; answers its `messageId`.
    pub fn stream_ping(&self) -> String {
        self.with(|s| {
            let id = s.next_id("ping");
            s.gateway
                .broadcast(&stream::Command::Send(stream::system_frame(&id, "ping")));
            id
        })
    }

    /// Sends a SYSTEM `disconnect`, then closes every connection.
    pub fn stream_disconnect(&self) {
        self.with(|s| {
            let id = s.next_id("sys");
            s.gateway
                .broadcast(&stream::Command::Send(stream::system_frame(
                    &id,
                    "disconnect",
                )));
            s.gateway.broadcast(&stream::Command::Drop);
        });
    }

    /// Closes every connection without a word, as a network failure would.
    pub fn stream_drop(&self) {
        self.with(|s| s.gateway.broadcast(&stream::Command::Drop));
    }

    /// Sends `text` as a raw frame to every connection (bad input, for tests).
    pub fn stream_send_raw(&self, text: &str) -> usize {
        self.with(|s| s.gateway.broadcast(&stream::Command::Send(text.to_owned())))
    }

    /// Refuses (or accepts again) the credentials at `connections/open`.
    pub fn stream_refuse_credentials(&self, refuse: bool) {
        self.with(|s| s.gateway.refuse = refuse);
    }

    /// Makes `connections/open` never answer (or answer again).
    pub fn stream_hang(&self, hang: bool) {
        self.with(|s| s.gateway.hang = hang);
    }

    /// Every frame the Stream clients sent back (acknowledgements), parsed.
    pub fn stream_acks(&self) -> Vec<Value> {
        self.with(|s| s.gateway.acks.clone())
    }

    /// Waits (up to 10 s) until a Stream client is connected to the gateway; `false` if
    /// none came. A client reports itself connected once its handshake is answered, a
    /// moment before the gateway has registered it: push after this.
    pub async fn stream_connected(&self) -> bool {
        for _ in 0..1000 {
            if self.stream_connections() > 0 {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        false
    }

    /// How many frames the Stream clients sent back.
    pub fn stream_ack_count(&self) -> usize {
        self.with(|s| s.gateway.acks.len())
    }

    /// Live Stream connections.
    pub fn stream_connections(&self) -> usize {
        self.with(|s| {
            s.gateway.conns.retain(|c| !c.is_closed());
            s.gateway.conns.len()
        })
    }

    /// Connections opened (`connections/open` answered with a ticket).
    pub fn stream_opens(&self) -> u64 {
        self.with(|s| s.gateway.opens)
    }

    /// Queues a fault for the next request that `target` matches.
    pub fn inject(&self, target: Target, fault: Fault) {
        self.with(|s| s.faults.push_back((target, fault)));
    }

    /// Drops every queued fault.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// How the new API words permission denials from now on.
    pub fn set_denial_shape(&self, shape: DenialShape) {
        self.with(|s| s.denial_shape = shape);
    }

    /// The `expireIn` of tokens issued from now on (seconds; default 7200).
    pub fn set_expire_in(&self, seconds: i64) {
        self.with(|s| s.expire_in = seconds);
    }

    /// Makes every token issued so far expire now.
    pub fn expire_all_tokens(&self) {
        let now = std::time::Instant::now();
        self.with(|s| s.tokens.values_mut().for_each(|t| t.expires_at = now));
    }

    /// Every access token, refresh token and auth code the mock has issued, for tests that
    /// prove none of them leaks.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.with(|s| {
            s.tokens
                .keys()
                .chain(s.refresh_tokens.keys())
                .chain(s.auth_codes.keys())
                .cloned()
                .chain(s.issued_codes.iter().cloned())
                .chain(s.issued_refresh.iter().cloned())
                .collect()
        })
    }

    /// API requests that carried an issued token after it had expired.
    pub fn expired_token_uses(&self) -> u64 {
        self.with(|s| s.expired_token_uses)
    }

    /// Requests received by the token endpoints.
    pub fn token_requests(&self) -> u64 {
        self.with(|s| s.token_requests)
    }

    /// Requests received by the API at `path` (token endpoints excluded).
    pub fn api_requests(&self, path: &str) -> u64 {
        self.with(|s| s.api_requests.get(path).copied().unwrap_or(0))
    }

    /// API requests (token endpoints excluded) by the Unix second they arrived in.
    pub fn api_requests_per_second(&self) -> std::collections::BTreeMap<u64, u64> {
        self.with(|s| {
            let mut per = std::collections::BTreeMap::new();
            for second in &s.api_seconds {
                *per.entry(*second).or_default() += 1;
            }
            per
        })
    }

    /// Requests received by every API (token endpoints excluded).
    pub fn all_api_requests(&self) -> u64 {
        self.with(|s| s.api_requests.values().sum())
    }
}

impl Drop for MockDingTalk {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    state: Shared,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query: Vec<(String, String)> = req.uri().query().map(parse_query).unwrap_or_default();
    let token = req
        .headers()
        .get("x-acs-dingtalk-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A page the mock was told of may call openAuth's stand-in across origins.
    let cors = req
        .headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .filter(|o| {
            path == "/mock/openAuth"
                && state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .allowed_origins
                    .contains(*o)
        })
        .map(str::to_owned);
    if let Some(origin) = &cors {
        if method == "OPTIONS" {
            return Ok(Response::builder()
                .status(204)
                .header("access-control-allow-origin", origin.as_str())
                .header("access-control-allow-methods", "POST")
                .header("access-control-allow-headers", "content-type")
                .header("access-control-max-age", "600")
                .header("vary", "origin")
                .body(Full::new(Bytes::new()))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))));
        }
    } else if let Some(refusal) = refuse_browser_requests(&method, &path, req.headers()) {
        return Ok(refusal);
    }
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(plain(413, "request body too large")),
    };
    let answer = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        handlers::handle(&mut s, &method, &path, &query, token.as_deref(), &body)
    };
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let content_type = if answer.json {
        "application/json;charset=utf-8"
    } else {
        "text/html"
    };
    let mut response = Response::builder()
        .status(answer.status)
        .header("content-type", content_type);
    if let Some(seconds) = answer.retry_after {
        response = response.header("retry-after", seconds);
    }
    if let Some(origin) = &cors {
        response = response
            .header("access-control-allow-origin", origin.as_str())
            .header("vary", "origin");
    }
    let response = response
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())));
    Ok(response)
}

/// The longest request body the mock reads.
const MAX_BODY: usize = 1 << 20;

pub(crate) fn plain(status: u16, text: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// The mock's own endpoints (`/mock/...`) grant codes: they take JSON only, so that no web
/// page can reach them with a cross-origin simple request, and refuse an `Origin` other
/// than the mock's own.
fn refuse_browser_requests(
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
) -> Option<Response<Full<Bytes>>> {
    if !path.starts_with("/mock/") {
        return None;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header("origin") {
        let own = header("host")
            .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("http://{host}")));
        if !own {
            return Some(plain(
                403,
                "a foreign Origin may not use the mock's endpoints",
            ));
        }
    }
    let json = header("content-type").is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if method == "POST" && !json {
        return Some(plain(415, "the mock's endpoints take application/json"));
    }
    None
}

pub(crate) fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
