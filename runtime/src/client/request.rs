//! Sending a request: the pre-call grant check, the token, retries with backoff and
//! jitter, and DingTalk's answers turned into typed errors.

use std::cell::Cell;

use serde::de::DeserializeOwned;

use super::answer::{Verdict, classify_new, classify_old};
use super::{DingTalk, Principal, api_error};
use crate::error::{Denied, DenyReason};
use crate::{Error, OpenAuthRequest, Scope, Secret};

/// A request being built; [`RequestBuilder::send`] sends it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    corp: Principal,
    method: reqwest::Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<serde_json::Value>,
    precheck: bool,
}

impl RequestBuilder {
    pub(crate) fn new(corp: Principal, method: reqwest::Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            corp,
            method,
            path: path.to_owned(),
            query: Vec::new(),
            body: None,
            precheck: true,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: impl ToString) -> Self {
        self.query.push((name.to_owned(), value.to_string()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.body = serde_json::to_value(body).ok();
        self
    }

    /// Skips the pre-call check: for the call that learns the grant.
    pub(crate) fn without_precheck(mut self) -> Self {
        self.precheck = false;
        self
    }

    fn is_old_api(&self) -> bool {
        !self.path.starts_with("/v1.0/") && !self.path.starts_with("/v2.0/")
    }

    /// `GET /v1.0/...`, for messages; never holds a token.
    fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The codes DingTalk's catalog says this API needs (any one suffices).
    fn required(&self) -> Option<&'static [&'static str]> {
        let method = dingscope_catalog::Method::parse(self.method.as_str())?;
        dingscope_catalog::required_for(method, &self.path)
    }

    /// Sends the request and reads the answer as `T`.
    ///
    /// Before anything is sent, the grant must hold one of the codes DingTalk's catalog
    /// names for this API; otherwise the answer is a denial and no request leaves. A
    /// bad-token answer refreshes the token and retries once; throttling, timeouts and
    /// server failures are retried with exponential backoff and jitter.
    pub async fn send<T: DeserializeOwned>(self) -> Result<T, Error> {
        let dt = self.corp.dt.clone();
        let principal = self.corp.who.clone();
        let endpoint = self.endpoint();
        let required = self.required();
        if let Some(codes) = required.filter(|_| self.precheck) {
            let grant = dt.grant_of(&principal).await?;
            if !codes.iter().any(|c| grant.contains(c)) {
                let alts: Vec<Scope> = codes.iter().map(|c| Scope::from_static(c)).collect();
                let request = OpenAuthRequest::for_codes(principal.auth_type(), alts.first());
                let (function, location) = function_or(&endpoint);
                return Err(Error::from(Denied {
                    function,
                    location,
                    reason: DenyReason::NotGranted {
                        endpoint: endpoint.clone(),
                    },
                    missing: vec![alts],
                    request,
                }));
            }
        }
        let retry = dt.inner.retry;
        let key = self.corp.token_key.clone();
        let mut token = dt.token(&principal, &key).await?;
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (status, bytes) = match self.send_once(&dt, &token).await {
                Ok(answer) => answer,
                Err(e) => {
                    let timeout = e.is_timeout();
                    let message = e.without_url().to_string();
                    if attempt < retry.attempts {
                        tracing::debug!(%endpoint, attempt, timeout, "transport error; retrying");
                        backoff(&retry, attempt).await;
                        continue;
                    }
                    let err = api_error(&endpoint, 0, "", &message, None, attempt);
                    return Err(if timeout {
                        Error::Timeout(err)
                    } else {
                        Error::Transport(err)
                    });
                }
            };
            let verdict = if self.is_old_api() {
                classify_old(status, &bytes)
            } else {
                classify_new(status, &bytes)
            };
            match verdict {
                Verdict::Ok => {
                    return parse_answer(&bytes, &endpoint, status, attempt, "unexpected answer");
                }
                Verdict::Denied {
                    required: server_codes,
                    code,
                    request_id,
                } => {
                    return Err(self
                        .server_denial(&dt, server_codes, required, code, request_id)
                        .await);
                }
                Verdict::BadToken { .. } if !refreshed => {
                    tracing::debug!(%endpoint, "token refused; fetching a new one and retrying once");
                    dt.invalidate_token(&key, &token).await;
                    token = dt.token(&principal, &key).await?;
                    refreshed = true;
                    attempt -= 1;
                }
                v if v.is_retryable() && attempt < retry.attempts => {
                    tracing::debug!(%endpoint, attempt, status, "throttled or failed; backing off");
                    backoff(&retry, attempt).await;
                }
                v => return Err(final_error(v, &endpoint, status, attempt)),
            }
        }
    }

    async fn send_once(
        &self,
        dt: &DingTalk,
        token: &Secret,
    ) -> Result<(u16, Vec<u8>), reqwest::Error> {
        let old = self.is_old_api();
        let base = if old {
            &dt.inner.oapi_base
        } else {
            &dt.inner.api_base
        };
        let mut req = dt
            .inner
            .http
            .request(self.method.clone(), format!("{base}{}", self.path))
            .query(&self.query);
        if old {
            req = req.query(&[("access_token", token.expose())]);
        } else {
            req = req.header("x-acs-dingtalk-access-token", token.expose());
        }
        if let Some(body) = &self.body {
            req = req.json(body);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        Ok((status, bytes.to_vec()))
    }

    /// DingTalk denied: the grant loses the named codes, and the error names them, the
    /// openAuth parameters to grant them, and any the calling function did not declare.
    async fn server_denial(
        &self,
        dt: &DingTalk,
        server_codes: Vec<String>,
        catalog: Option<&'static [&'static str]>,
        code: String,
        request_id: Option<String>,
    ) -> Error {
        let endpoint = self.endpoint();
        let principal = &self.corp.who;
        let codes: Vec<Scope> = if server_codes.is_empty() {
            catalog
                .unwrap_or(&[])
                .iter()
                .map(|c| Scope::from_static(c))
                .collect()
        } else {
            server_codes
                .iter()
                .filter_map(|c| Scope::parse(c).ok())
                .collect()
        };
        if let Ok(g) = dt.grant_of(principal).await {
            let next = g.without(codes.iter().map(Scope::as_str));
            if next != g
                && let Err(e) = dt.set_grant(principal, next).await
            {
                tracing::warn!(error = %e, "could not record a denial in the grant store");
            }
        }
        let declared = crate::context::current_requirement();
        let undeclared: Vec<Scope> = match declared {
            Some(req) => codes
                .iter()
                .filter(|c| !req.groups().iter().any(|g| g.codes().contains(&c.as_str())))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let request = OpenAuthRequest::for_codes(principal.auth_type(), &codes);
        let (function, location) = function_or(&endpoint);
        Error::from(Denied {
            function,
            location,
            reason: DenyReason::Server {
                endpoint,
                code,
                request_id,
                undeclared,
            },
            missing: codes.into_iter().map(|c| vec![c]).collect(),
            request,
        })
    }
}

/// The running annotated function's name and location, or the endpoint's name.
fn function_or(endpoint: &str) -> (String, Option<(&'static str, u32)>) {
    match crate::context::current_requirement() {
        Some(r) => (r.function().to_owned(), r.location()),
        None => (endpoint.to_owned(), None),
    }
}

/// A token endpoint call: retried on server failures and timeouts, never logged with its body.
pub(crate) async fn token_call<T: DeserializeOwned>(
    dt: &DingTalk,
    path: &str,
    body: serde_json::Value,
) -> Result<T, Error> {
    let endpoint = format!("POST {path}");
    let retry = dt.inner.retry;
    let url = format!("{}{path}", dt.inner.api_base);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = dt.inner.http.post(&url).json(&body).send().await;
        let (status, bytes) = match sent {
            Ok(r) => {
                let status = r.status().as_u16();
                match r.bytes().await {
                    Ok(b) => (status, b.to_vec()),
                    Err(e) if attempt < retry.attempts => {
                        tracing::debug!(%endpoint, attempt, error = %e.without_url(), "token answer cut off; retrying");
                        backoff(&retry, attempt).await;
                        continue;
                    }
                    Err(e) => {
                        return Err(Error::Transport(api_error(
                            &endpoint,
                            status,
                            "",
                            &e.without_url().to_string(),
                            None,
                            attempt,
                        )));
                    }
                }
            }
            Err(e) => {
                if attempt < retry.attempts {
                    tracing::debug!(%endpoint, attempt, "token endpoint unreachable; retrying");
                    backoff(&retry, attempt).await;
                    continue;
                }
                let timeout = e.is_timeout();
                let err = api_error(
                    &endpoint,
                    0,
                    "",
                    &e.without_url().to_string(),
                    None,
                    attempt,
                );
                return Err(if timeout {
                    Error::Timeout(err)
                } else {
                    Error::Transport(err)
                });
            }
        };
        match classify_new(status, &bytes) {
            Verdict::Ok => {
                return parse_answer(
                    &bytes,
                    &endpoint,
                    status,
                    attempt,
                    "unexpected token answer",
                );
            }
            v if v.is_retryable() && attempt < retry.attempts => {
                tracing::debug!(%endpoint, attempt, status, "token endpoint failed; retrying");
                backoff(&retry, attempt).await;
            }
            // Refused credentials, ticket or authorization: DingTalk's code says which.
            Verdict::Other {
                status,
                code,
                message,
                request_id,
            } => {
                return Err(Error::Token(api_error(
                    &endpoint, status, &code, &message, request_id, attempt,
                )));
            }
            Verdict::BadToken { code } | Verdict::Denied { code, .. } => {
                return Err(Error::Token(api_error(
                    &endpoint,
                    status,
                    &code,
                    "the token endpoint refused",
                    None,
                    attempt,
                )));
            }
            v => return Err(final_error(v, &endpoint, status, attempt)),
        }
    }
}

/// A success body as `T`; anything else is a protocol error naming `what` was expected.
fn parse_answer<T: DeserializeOwned>(
    bytes: &[u8],
    endpoint: &str,
    status: u16,
    attempt: u32,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::Protocol(api_error(
            endpoint,
            status,
            "",
            &format!("{what}: {e}"),
            None,
            attempt,
        ))
    })
}

/// The error for an answer that is not retried (again).
fn final_error(v: Verdict, endpoint: &str, status: u16, attempt: u32) -> Error {
    let e = |code: &str, message: &str, request_id: Option<String>| {
        api_error(endpoint, status, code, message, request_id, attempt)
    };
    match v {
        Verdict::Throttled { code } => Error::Throttled(e(&code, "throttled", None)),
        Verdict::Timeout => Error::Timeout(e("", "no answer in time", None)),
        Verdict::Unavailable { .. } => Error::Unavailable(e("", "server failure", None)),
        Verdict::BadToken { code } => {
            Error::BadToken(e(&code, "the token was refused twice", None))
        }
        Verdict::Malformed { what, .. } => Error::Protocol(e("", &what, None)),
        Verdict::Other {
            code,
            message,
            request_id,
            ..
        } => Error::Api(e(&code, &message, request_id)),
        Verdict::Denied {
            code, request_id, ..
        } => Error::Api(e(&code, "permission denied", request_id)),
        Verdict::Ok => Error::Protocol(e("", "an answer was taken for an error", None)),
    }
}

/// Sleeps `base * 2^(attempt-1)`, capped, with ±50% jitter.
async fn backoff(retry: &super::Retry, attempt: u32) {
    let exp = retry.base_delay.saturating_mul(1 << (attempt - 1).min(16));
    let capped = exp.min(retry.max_delay);
    let jitter = 0.5 + next_random();
    tokio::time::sleep(capped.mul_f64(jitter)).await;
}

/// A number in [0, 1) from a per-thread xorshift generator; jitter needs no better.
fn next_random() -> f64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0x9e37_79b9, |d| d.as_nanos() as u64);
            (t ^ (&t as *const u64 as u64)) | 1
        });
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}
