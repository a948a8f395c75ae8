//! Sending a request: the pre-call grant check, the token, the retried exchange, and
//! DingTalk's answers turned into typed errors.

use http::Method;
use serde::de::DeserializeOwned;

use dingscope_catalog::Host;

use super::answer::{Verdict, classify_new, classify_old, final_error, parse_answer};
use super::path::{Route, route};
use super::retry::exchange;
use super::throttle::Pacing;
use super::transport::{Failure, Outgoing, Reply, query_string};
use super::{DingTalk, Principal};
use crate::error::{ApiError, Denied, DenyReason};
use crate::{Error, OpenAuthRequest, Scope, Secret};

/// A request being built; [`RequestBuilder::send`] sends it.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    corp: Principal,
    method: Method,
    /// The checked path, or why it was refused.
    route: Result<Route, String>,
    query: Vec<(String, String)>,
    /// The JSON body, or why it could not be written.
    body: Option<Result<serde_json::Value, serde_json::Error>>,
    precheck: bool,
}

impl RequestBuilder {
    pub(crate) fn new(corp: Principal, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder {
            corp,
            method,
            route: route(path),
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

    /// Sets a JSON body. A body that cannot be written as JSON fails [`send`] with
    /// [`Error::Encode`], and nothing is sent.
    ///
    /// [`send`]: RequestBuilder::send
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.body = Some(serde_json::to_value(body));
        self
    }

    /// Every item of a list that comes in pages, as one [`Stream`](futures_core::Stream):
    /// this request is sent once per page with the cursor of the page before
    /// ([`Paging`](super::Paging) says where it is). See [`paging`](super::paging).
    pub fn pages<T: DeserializeOwned>(self, paging: super::Paging) -> super::Pages<T> {
        let endpoint = self
            .route
            .as_ref()
            .map(|r| self.endpoint(r))
            .unwrap_or_default();
        let is_get = self.method == Method::GET;
        super::Pages::new(self, paging, is_get, endpoint)
    }

    /// A copy of this request carrying `cursor` (none: the first page) as `param`, in the
    /// query or in the JSON body.
    pub(crate) fn with_cursor(
        &self,
        param: &str,
        cursor: Option<&serde_json::Value>,
        in_query: bool,
    ) -> Result<RequestBuilder, Error> {
        let body = match &self.body {
            None => None,
            Some(Ok(v)) => Some(v.clone()),
            Some(Err(e)) => {
                return Err(Error::Config(format!(
                    "the request body could not be written as JSON: {e}"
                )));
            }
        };
        let mut copy = RequestBuilder {
            corp: self.corp.clone(),
            method: self.method.clone(),
            route: self.route.clone(),
            query: self.query.clone(),
            body: body.map(Ok),
            precheck: self.precheck,
        };
        let Some(cursor) = cursor else {
            return Ok(copy);
        };
        if in_query {
            let text = match cursor {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            copy.query.retain(|(k, _)| k != param);
            copy.query.push((param.to_owned(), text));
        } else {
            let mut body = match copy.body.take() {
                Some(Ok(serde_json::Value::Object(m))) => m,
                None => serde_json::Map::new(),
                Some(_) => {
                    return Err(Error::Config(
                        "a paged request's JSON body must be an object to carry the cursor".into(),
                    ));
                }
            };
            body.insert(param.to_owned(), cursor.clone());
            copy.body = Some(Ok(serde_json::Value::Object(body)));
        }
        Ok(copy)
    }

    /// Skips the pre-call check: for the call that learns the grant.
    pub(crate) fn without_precheck(mut self) -> Self {
        self.precheck = false;
        self
    }

    /// `GET /v1.0/...`, for messages; never holds a token.
    fn endpoint(&self, route: &Route) -> String {
        format!("{} {}", self.method, route.path)
    }

    /// The codes DingTalk's catalog says this API needs (any one suffices), looked up by
    /// the host and path that are sent.
    fn required(&self, route: &Route) -> Option<&'static [&'static str]> {
        let method = dingscope_catalog::Method::parse(self.method.as_str())?;
        let url = format!("{}{}", route.host.base_url(), route.path);
        dingscope_catalog::required_for(method, &url)
    }

    /// Sends a request of the old API and reads its `result` as `T`: the old API answers
    /// `{"errcode": 0, "errmsg": "ok", "result": ...}`, and [`send`](Self::send) gives the
    /// whole body. An answer without `result` is a [`Error::Protocol`].
    pub async fn send_result<T: DeserializeOwned>(self) -> Result<T, Error> {
        let endpoint = self
            .route
            .as_ref()
            .map(|r| self.endpoint(r))
            .unwrap_or_default();
        let mut body: serde_json::Map<String, serde_json::Value> = self.send().await?;
        let result = body.remove("result").ok_or_else(|| {
            Error::Protocol(ApiError::new(
                &endpoint,
                200,
                "",
                "the answer has no `result`",
                None,
                1,
            ))
        })?;
        serde_json::from_value(result).map_err(|e| {
            Error::Protocol(ApiError::new(
                &endpoint,
                200,
                "",
                &format!("`result` is not what was expected: {e}"),
                None,
                1,
            ))
        })
    }

    /// Sends the request and reads the answer as `T`.
    ///
    /// Before anything is sent, the grant must hold one of the codes DingTalk's catalog
    /// names for this API; otherwise the answer is a denial and no request leaves. A
    /// bad-token answer refreshes the token and retries once; throttling, timeouts and
    /// server failures are retried with exponential backoff and jitter.
    pub async fn send<T: DeserializeOwned>(mut self) -> Result<T, Error> {
        if let Some(Err(e)) = self.body.take_if(|b| b.is_err()) {
            return Err(Error::Encode(e));
        }
        let route = self.route.clone().map_err(Error::Config)?;
        let dt = self.corp.dt.clone();
        let principal = self.corp.who.clone();
        let endpoint = self.endpoint(&route);
        // The grant entered names its corp or user: a call for another is not this grant's.
        if let Some(entered) = crate::current_grant()
            && let Some(owner) = entered.owner()
            && owner != dt.inner.keys.grant(dt.client_id(), &principal)
        {
            return Err(Error::Mismatch(format!(
                "{endpoint}: the grant entered belongs to another corp or user than the one this request is for; enter this one's (`Principal::run`)"
            )));
        }
        dt.check_not_stopped(self.corp.corp_id()).await?;
        let required = self.required(&route);
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
        let key = self.corp.token_id.clone();
        let classify = match route.host {
            Host::Api => classify_new,
            Host::Oapi => classify_old,
        };
        let pacing = Pacing {
            corp: self.corp.corp_id(),
            endpoint: &endpoint,
        };
        let mut token = dt.token(&principal, &key).await?;
        let mut answer = exchange(&dt, &endpoint, Some(&pacing), 0, classify, || {
            self.send_once(&dt, &route, &token)
        })
        .await?;
        if let Verdict::BadToken { .. } = answer.verdict {
            tracing::debug!(%endpoint, "token refused; fetching a new one and retrying once");
            dt.invalidate_token(&key, &token).await;
            token = dt.token(&principal, &key).await?;
            // The refused attempt is not counted.
            let done = answer.attempts - 1;
            answer = exchange(&dt, &endpoint, Some(&pacing), done, classify, || {
                self.send_once(&dt, &route, &token)
            })
            .await?;
        }
        let (status, attempts) = (answer.status, answer.attempts);
        match answer.verdict {
            Verdict::Ok => parse_answer(&answer, &endpoint, "unexpected answer"),
            Verdict::Denied {
                required: server_codes,
                code,
                request_id,
            } => Err(self
                .server_denial(&dt, &endpoint, server_codes, required, code, request_id)
                .await),
            v => Err(final_error(v, &endpoint, status, attempts)),
        }
    }

    async fn send_once(
        &self,
        dt: &DingTalk,
        route: &Route,
        token: &Secret,
    ) -> Result<Reply, Failure> {
        let old = route.host == Host::Oapi;
        let base = if old {
            &dt.inner.oapi_base
        } else {
            &dt.inner.api_base
        };
        let mut query: Vec<(&str, &str)> = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut headers: Vec<(&'static str, &str)> = Vec::new();
        if old {
            query.push(("access_token", token.expose()));
        } else {
            headers.push(("x-acs-dingtalk-access-token", token.expose()));
        }
        let mut url = format!("{base}{}", route.path);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query_string(query));
        }
        let json = match &self.body {
            Some(Ok(body)) => {
                Some(serde_json::to_vec(body).map_err(|e| Failure::Build(e.to_string()))?)
            }
            _ => None,
        };
        dt.inner
            .http
            .send(Outgoing {
                method: self.method.clone(),
                url: &url,
                headers: &headers,
                json,
            })
            .await
    }

    /// DingTalk denied: the grant loses the named codes, and the error names them, the
    /// openAuth parameters to grant them, and any the calling function did not declare.
    async fn server_denial(
        &self,
        dt: &DingTalk,
        endpoint: &str,
        server_codes: Vec<String>,
        catalog: Option<&'static [&'static str]>,
        code: String,
        request_id: Option<String>,
    ) -> Error {
        let endpoint = endpoint.to_owned();
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
        if let Err(e) = dt
            .update_grant(principal, |g| g.without(codes.iter().map(Scope::as_str)))
            .await
        {
            tracing::warn!(error = %e, "could not record a denial in the grant store");
        }
        let declared = crate::current_requirement();
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
    match crate::current_requirement() {
        Some(r) => (r.function().to_owned(), r.location()),
        None => (endpoint.to_owned(), None),
    }
}

impl DingTalk {
    /// One new-API call with `token`, outside the token cache and the grant check: for
    /// the client's own questions about a token it has not kept yet.
    pub(crate) async fn raw_call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: &Secret,
    ) -> Result<T, Error> {
        let endpoint = format!("{method} {path}");
        let url = format!("{}{path}", self.inner.api_base);
        let headers = [("x-acs-dingtalk-access-token", token.expose())];
        let answer = exchange(self, &endpoint, None, 0, classify_new, || {
            self.inner.http.send(Outgoing {
                method: method.clone(),
                url: &url,
                headers: &headers,
                json: None,
            })
        })
        .await?;
        match answer.verdict {
            Verdict::Ok => parse_answer(&answer, &endpoint, "unexpected answer"),
            Verdict::Denied { required, code, .. } => Err(Error::Config(format!(
                "{endpoint} was refused ({code}): the token's grant lacks {}, which the openAuth that issued it must grant",
                if required.is_empty() {
                    "its permission".to_owned()
                } else {
                    required.join(" or ")
                }
            ))),
            v => Err(final_error(v, &endpoint, answer.status, answer.attempts)),
        }
    }
}

/// A token endpoint call: retried on server failures and timeouts, never logged with its body.
pub(crate) async fn token_call<T: DeserializeOwned>(
    dt: &DingTalk,
    path: &str,
    body: serde_json::Value,
) -> Result<T, Error> {
    let endpoint = format!("POST {path}");
    let url = format!("{}{path}", dt.inner.api_base);
    let json = serde_json::to_vec(&body).map_err(Error::Encode)?;
    let answer = exchange(dt, &endpoint, None, 0, classify_new, || {
        dt.inner.http.send(Outgoing {
            method: Method::POST,
            url: &url,
            headers: &[],
            json: Some(json.clone()),
        })
    })
    .await?;
    let (status, attempts) = (answer.status, answer.attempts);
    match answer.verdict {
        Verdict::Ok => parse_answer(&answer, &endpoint, "unexpected token answer"),
        // Refused credentials, ticket or authorization: DingTalk's code says which.
        Verdict::Other {
            status,
            code,
            message,
            request_id,
        } => Err(Error::Token(ApiError::new(
            &endpoint, status, &code, &message, request_id, attempts,
        ))),
        Verdict::BadToken { code } | Verdict::Denied { code, .. } => {
            Err(Error::Token(ApiError::new(
                &endpoint,
                status,
                &code,
                "the token endpoint refused",
                None,
                attempts,
            )))
        }
        v => Err(final_error(v, &endpoint, status, attempts)),
    }
}
