//! The JSON a front end reads and writes (feature `serde`): a denial, as the body of the
//! 403 a page receives; openAuth's parameters; and openAuth's answer, which the page posts
//! back.
//!
//! A denial:
//!
//! ```json
//! {
//!   "error": "denied",
//!   "message": "`app::list_dismissed` (src/lib.rs:12) needs DingTalk permission ...",
//!   "function": "app::list_dismissed",
//!   "location": {"file": "src/lib.rs", "line": 12},
//!   "reason": "missing",
//!   "endpoint": null,
//!   "missing": [["qyapi_hrm_read_user"]],
//!   "openAuth": {"rpcScope": "qyapi_hrm_read_user", "fieldScope": "", "type": 1}
//! }
//! ```
//!
//! `reason` is `noGrant`, `missing`, `notGranted` (the pre-call check of an endpoint;
//! `endpoint` names it), `server` (DingTalk denied; `endpoint` too) or `wrongAuthType`.
//! `openAuth` holds exactly the parameters to pass to `openAuth` besides `clientId` and
//! `corpId`. The answer a page posts back is [`OpenAuthAnswer`]:
//! `{"status": "ok", "request": {"rpcScope": ..., "fieldScope": ..., "type": 1}}`, with
//! `"authCode"` from openAuth's `result` for type 0. It is the front end's word only: record it with
//! [`Principal::record_open_auth`](crate::client::Principal::record_open_auth), whose
//! rules say what a forged `ok` can and cannot do.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Denied, DenyReason};
use crate::openauth::{OpenAuthRequest, OpenAuthStatus};
use crate::scope::AuthType;

impl Serialize for OpenAuthRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("rpcScope", &self.rpc_scope)?;
        m.serialize_entry("fieldScope", &self.field_scope)?;
        m.serialize_entry("type", &self.auth_type.open_auth_type())?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for OpenAuthRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            #[serde(rename = "rpcScope", default)]
            rpc_scope: String,
            #[serde(rename = "fieldScope", default)]
            field_scope: String,
            #[serde(rename = "type")]
            kind: TypeValue,
        }
        /// openAuth's `type`, written as a number or a string.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum TypeValue {
            Number(u8),
            Text(String),
        }
        let w = Wire::deserialize(d)?;
        let auth_type = match w.kind {
            TypeValue::Number(0) => AuthType::Delegated,
            TypeValue::Number(1) => AuthType::Application,
            TypeValue::Text(t) if t == "0" => AuthType::Delegated,
            TypeValue::Text(t) if t == "1" => AuthType::Application,
            _ => return Err(serde::de::Error::custom("openAuth `type` must be 0 or 1")),
        };
        for list in [&w.rpc_scope, &w.field_scope] {
            if list.len() > 8192 || list.chars().any(char::is_control) {
                return Err(serde::de::Error::custom(
                    "an openAuth scope list too long or with control characters",
                ));
            }
        }
        Ok(OpenAuthRequest {
            rpc_scope: w.rpc_scope,
            field_scope: w.field_scope,
            auth_type,
        })
    }
}

impl Serialize for OpenAuthStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            OpenAuthStatus::Ok => "ok",
            OpenAuthStatus::Cancel => "cancel",
            OpenAuthStatus::ToAdmin => "toAdmin",
            OpenAuthStatus::Failed => "failed",
        })
    }
}

impl<'de> Deserialize<'de> for OpenAuthStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OpenAuthStatus::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What openAuth answered to a request, as a page posts it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAuthAnswer {
    /// openAuth's `status`.
    pub status: OpenAuthStatus,
    /// The parameters openAuth was called with (a denial's `openAuth`).
    pub request: OpenAuthRequest,
    /// For type 0 answering `ok`: the one-time `authCode` in openAuth's `result`, which
    /// the server exchanges for the user's token. Read, never written back out.
    #[serde(
        rename = "authCode",
        default,
        skip_serializing,
        deserialize_with = "auth_code"
    )]
    pub auth_code: Option<crate::Secret>,
}

fn auth_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::Secret>, D::Error> {
    let code = Option::<String>::deserialize(d)?;
    if let Some(c) = &code
        && (c.is_empty() || c.len() > 256 || !c.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(serde::de::Error::custom(
            "an authCode is 1 to 256 printable ASCII characters",
        ));
    }
    Ok(code.map(crate::Secret::new))
}

impl Serialize for Denied {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (reason, endpoint) = match self.reason() {
            DenyReason::NoGrant => ("noGrant", None),
            DenyReason::Missing => ("missing", None),
            DenyReason::NotGranted { endpoint } => ("notGranted", Some(endpoint.as_str())),
            DenyReason::Server { endpoint, .. } => ("server", Some(endpoint.as_str())),
            DenyReason::WrongAuthType { .. } => ("wrongAuthType", None),
        };
        let missing: Vec<Vec<&str>> = self
            .missing()
            .iter()
            .map(|alts| alts.iter().map(|c| c.as_str()).collect())
            .collect();
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("error", "denied")?;
        m.serialize_entry("message", &self.to_string())?;
        m.serialize_entry("function", self.function())?;
        m.serialize_entry(
            "location",
            &self
                .location()
                .map(|(file, line)| serde_json::json!({"file": file, "line": line})),
        )?;
        m.serialize_entry("reason", reason)?;
        m.serialize_entry("endpoint", &endpoint)?;
        m.serialize_entry("missing", &missing)?;
        m.serialize_entry("openAuth", self.open_auth())?;
        m.end()
    }
}

/// A JSON response: what every response of this module is.
#[cfg(feature = "axum")]
fn json_response(status: axum::http::StatusCode, body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// `{"error": kind, "message": message}` with `status`.
#[cfg(feature = "axum")]
fn error_response(
    status: axum::http::StatusCode,
    kind: &str,
    message: &str,
) -> axum::response::Response {
    json_response(
        status,
        serde_json::json!({"error": kind, "message": message}).to_string(),
    )
}

/// A denial as a 403 with its JSON (feature `axum`): the page reads `openAuth` from it.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for Denied {
    fn into_response(self) -> axum::response::Response {
        json_response(
            axum::http::StatusCode::FORBIDDEN,
            serde_json::to_string(&self).unwrap_or_default(),
        )
    }
}

/// The longest openAuth answer a page may post, in bytes.
#[cfg(feature = "axum")]
pub const MAX_ANSWER_BYTES: usize = 32 * 1024;

/// An openAuth answer as an axum extractor (feature `axum`): the JSON body a page posts,
/// at most [`MAX_ANSWER_BYTES`] bytes, of type `application/json`. A body that is not an
/// answer is refused with a 400 (415 for another content type, 413 when too long) and
/// `{"error": "badRequest", "message": ...}`, as [`Error`](crate::Error)'s responses are.
///
/// ```no_run
/// # use dingscope::client::DingTalk;
/// # use dingscope::wire::OpenAuthAnswer;
/// async fn granted(
///     axum::extract::State(dt): axum::extract::State<DingTalk>,
///     answer: OpenAuthAnswer,
/// ) -> Result<(), dingscope::Error> {
///     dt.corp("ding-corp-of-the-session").record(&answer).await?;
///     Ok(())
/// }
/// ```
#[cfg(feature = "axum")]
impl<S: Send + Sync> axum::extract::FromRequest<S> for OpenAuthAnswer {
    type Rejection = axum::response::Response;

    async fn from_request(
        req: axum::extract::Request,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        use axum::http::{StatusCode, header};
        let refuse = |status, message: &str| error_response(status, "badRequest", message);
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "an openAuth answer is application/json",
            ));
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|_| {
                refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("an openAuth answer is at most {MAX_ANSWER_BYTES} bytes"),
                )
            })?;
        serde_json::from_slice(&body).map_err(|e| {
            refuse(
                StatusCode::BAD_REQUEST,
                &format!("not an openAuth answer: {e}"),
            )
        })
    }
}

/// An error as the response of an axum handler (feature `axum`), so that a handler can
/// return `Result<_, dingscope::Error>` and use `?`:
///
/// | error | status | body `error` |
/// |---|---|---|
/// | [`Error::Denied`](crate::Error::Denied) | 403, the denial's JSON (above) | `denied` |
/// | [`Error::InvalidScope`](crate::Error::InvalidScope), [`Error::UnknownStatus`](crate::Error::UnknownStatus) | 400 | `badRequest` |
/// | [`Error::AppStopped`](crate::Error::AppStopped) | 403 | `appStopped` |
/// | [`Error::Throttled`](crate::Error::Throttled) | 429, `Retry-After` when known | `throttled` |
/// | [`Error::QuotaExceeded`](crate::Error::QuotaExceeded) | 429 | `quotaExceeded` |
/// | [`Error::Timeout`](crate::Error::Timeout) | 504 | `timeout` |
/// | other DingTalk errors | 502 | `dingtalk` |
/// | the store, the configuration | 500 | `internal` |
///
/// The body is `{"error": ..., "message": ...}`; outside 400 the message is generic, as
/// the page needs no more, and the error itself goes to `tracing` at `warn`.
#[cfg(feature = "axum")]
impl axum::response::IntoResponse for crate::Error {
    fn into_response(self) -> axum::response::Response {
        use crate::Error;
        use axum::http::{HeaderValue, StatusCode, header};
        let shown = self.to_string();
        let retry_at = match &self {
            Error::Throttled(e) => e.retry_at,
            _ => None,
        };
        let (status, kind, message) = match self {
            Error::Denied(d) => return (*d).into_response(),
            Error::InvalidScope(_) | Error::UnknownStatus(_) => {
                (StatusCode::BAD_REQUEST, "badRequest", shown.as_str())
            }
            Error::AppStopped(_) => (
                StatusCode::FORBIDDEN,
                "appStopped",
                "the organisation has stopped or removed this app",
            ),
            Error::Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "DingTalk is throttling this app: try again later",
            ),
            Error::QuotaExceeded(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "quotaExceeded",
                "the organisation's monthly DingTalk quota is used up",
            ),
            Error::Timeout(_) => (
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "DingTalk did not answer in time",
            ),
            Error::Token(_)
            | Error::BadToken(_)
            | Error::Unavailable(_)
            | Error::Api(_)
            | Error::Protocol(_)
            | Error::Transport(_) => (
                StatusCode::BAD_GATEWAY,
                "dingtalk",
                "a DingTalk call failed",
            ),
            Error::Encode(_) | Error::Store(_) | Error::Mismatch(_) | Error::Config(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server failed",
            ),
        };
        if status != StatusCode::BAD_REQUEST {
            tracing::warn!(error = %shown, status = status.as_u16(), "a handler failed");
        }
        let mut response = error_response(status, kind, message);
        if let Some(at) = retry_at {
            let seconds = at
                .duration_since(std::time::SystemTime::now())
                .map_or(1, |d| d.as_secs() + 1);
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Grant, Group, Requirement};
    use serde_json::json;

    static LIST: Requirement = Requirement::new(
        "app::list",
        &[Group::rpc(&["qyapi_hrm_read_user"])],
        Some(AuthType::Application),
    );

    #[test]
    fn a_denial_serializes_for_the_page() {
        let denied = Grant::application(["snsapi_base"])
            .run(|| LIST.check())
            .unwrap_err();
        let v = serde_json::to_value(denied.as_denied().unwrap()).unwrap();
        assert_eq!(v["error"], "denied");
        assert_eq!(v["reason"], "missing");
        assert_eq!(v["missing"], json!([["qyapi_hrm_read_user"]]));
        assert_eq!(
            v["openAuth"],
            json!({"rpcScope": "qyapi_hrm_read_user", "fieldScope": "", "type": 1})
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("qyapi_hrm_read_user")
        );
    }

    proptest::proptest! {
        /// Whatever a page posts reads as an answer or a serde error: never a panic.
        #[test]
        fn any_posted_text_reads_without_panicking(text in "\\PC{0,300}") {
            let _ = serde_json::from_str::<OpenAuthAnswer>(&text);
            let code = format!("code-{}", text.len());
            let wrapped = format!(
                r#"{{"status":"ok","request":{{"rpcScope":{text:?},"type":0}},"authCode":"{code}"}}"#
            );
            if let Ok(a) = serde_json::from_str::<OpenAuthAnswer>(&wrapped) {
                let shown = format!("{a:?}");
                proptest::prop_assert!(!shown.contains(&code));
            }
        }
    }

    /// openAuth's one-time code for type 0 is read, never shown or written back out.
    #[test]
    fn an_auth_code_is_read_and_kept_secret() {
        let a: OpenAuthAnswer = serde_json::from_str(
            r#"{"status":"ok","request":{"rpcScope":"Contact.User.Read","type":0},"authCode":"code-secret-123"}"#,
        )
        .unwrap();
        assert_eq!(
            a.auth_code.as_ref().map(crate::Secret::expose),
            Some("code-secret-123")
        );
        assert!(!format!("{a:?}").contains("code-secret-123"));
        let out = serde_json::to_string(&a).unwrap();
        assert!(
            !out.contains("code-secret-123") && !out.contains("authCode"),
            "{out}"
        );
    }

    #[test]
    fn an_answer_reads_back_and_bad_ones_are_refused() {
        let a: OpenAuthAnswer = serde_json::from_str(
            r#"{"status":"toAdmin","request":{"rpcScope":"qyapi_hrm_read_user","type":"1"}}"#,
        )
        .unwrap();
        assert_eq!(a.status, OpenAuthStatus::ToAdmin);
        assert_eq!(a.request.auth_type, AuthType::Application);
        let back: OpenAuthAnswer =
            serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        for bad in [
            r#"{"status":"granted","request":{"type":1}}"#,
            r#"{"status":"ok","request":{"type":2}}"#,
            r#"{"status":"ok","request":{"rpcScope":"a\nb","type":1}}"#,
            r#"{"status":"ok","request":{"type":1},"extra":1}"#,
            r#"{"status":"ok"}"#,
            r#"{"status":"ok","request":{"type":0},"authCode":""}"#,
            r#"{"status":"ok","request":{"type":0},"authCode":"a b"}"#,
            r#"{"status":"ok","request":{"type":0},"authCode":7}"#,
        ] {
            assert!(
                serde_json::from_str::<OpenAuthAnswer>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
