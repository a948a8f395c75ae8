//! Reading DingTalk's answers: the error bodies of the new and old APIs, classified.
//!
//! Pure functions over bytes, so they can be tested and fuzzed without a server.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::retry::Answer;
use crate::Error;
use crate::error::ApiError;

/// What a DingTalk answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// A success body.
    Ok,
    /// Permission denied; the codes DingTalk names (empty if it names none).
    Denied {
        /// `requiredScopes`, or the codes inside the message.
        required: Vec<String>,
        /// DingTalk's code or errcode.
        code: String,
        /// The request id, if any.
        request_id: Option<String>,
    },
    /// The token is bad or expired.
    BadToken {
        /// DingTalk's code or errcode.
        code: String,
    },
    /// Throttled (QPS/QPM limits, 429, old-API 9000x).
    Throttled {
        /// DingTalk's code or errcode.
        code: String,
    },
    /// The IP address is banned (more than 10,000 calls in 20 s): an HTML page, or JSON
    /// such as `{"status":1111,"wait":5,"source":"x5","punish":"deny"}`. It lasts five
    /// minutes: not retried.
    Banned {
        /// What the answer was.
        code: String,
    },
    /// The corp's monthly call quota is used up (`ApiCountLimitForOrg`, old API 90020):
    /// not retried, it lasts until the month ends.
    QuotaExceeded {
        /// DingTalk's code or errcode.
        code: String,
    },
    /// No answer in time (504).
    Timeout,
    /// Another server-side failure (5xx).
    Unavailable {
        /// The HTTP status.
        status: u16,
    },
    /// Another error DingTalk reported.
    Other {
        /// The HTTP status.
        status: u16,
        /// DingTalk's code or errcode.
        code: String,
        /// DingTalk's message.
        message: String,
        /// The request id, if any.
        request_id: Option<String>,
    },
    /// The body is not what DingTalk sends.
    Malformed {
        /// The HTTP status.
        status: u16,
        /// What was wrong.
        what: String,
    },
}

impl Verdict {
    /// Throttling, timeouts and server failures: worth another attempt after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Verdict::Throttled { .. } | Verdict::Timeout | Verdict::Unavailable { .. }
        )
    }
}

/// The members of a JSON object, each value left unparsed: classifying an answer reads a
/// few keys without building the whole body. Empty for JSON that is not an object.
struct Object<'a>(BTreeMap<Cow<'a, str>, &'a RawValue>);

impl<'a> Object<'a> {
    /// The object in `json`, or `None` if `json` is not JSON at all.
    fn parse(json: &'a str) -> Option<Object<'a>> {
        let raw: &RawValue = serde_json::from_str(json).ok()?;
        Some(Object::of(raw))
    }

    fn of(raw: &'a RawValue) -> Object<'a> {
        Object(serde_json::from_str(raw.get()).unwrap_or_default())
    }

    /// The value at `key`, looked up case-insensitively (`Code`/`code`,
    /// `AccessDeniedDetail`/`accessdenieddetail`).
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }

    /// The value at `key` as text: a string's contents, any other value as written.
    fn text(&self, key: &str) -> Option<String> {
        let raw = self.get(key)?;
        Some(
            serde_json::from_str::<String>(raw.get())
                .unwrap_or_else(|_| raw.get().trim().to_owned()),
        )
    }
}

/// The most codes [`codes_in_text`] reads from one text.
pub const MAX_CODES_IN_TEXT: usize = 64;

/// Codes inside a text: the bracketed list after `requiredScopes=`, else every bracketed
/// `[...]` whose items are permission codes (`应用尚未开通所需的权限：[Calendar.Event.Write]`).
///
/// Linear in the text's length, and at most [`MAX_CODES_IN_TEXT`] codes, in order of
/// appearance, each once.
pub fn codes_in_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |list: &str| {
        for c in list.split(',').map(str::trim) {
            if out.len() < MAX_CODES_IN_TEXT
                && dingscope_catalog::check_grammar(c).is_ok()
                && seen.insert(c.to_owned())
            {
                out.push(c.to_owned());
            }
        }
    };
    if let Some(i) = text.find("requiredScopes=[") {
        let rest = &text[i + "requiredScopes=[".len()..];
        if let Some(end) = rest.find(']') {
            push(&rest[..end]);
            return out;
        }
    }
    let mut rest = text;
    while let Some(i) = rest.find('[') {
        rest = &rest[i + 1..];
        let Some(end) = rest.find(']') else { break };
        push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

const BAD_TOKEN_CODES: &[&str] = &[
    "InvalidAuthentication",
    "invalidAccessToken",
    "accesstoken.expired",
    "token.notExisted",
];

/// An answer whose body is not JSON, on either API: judged by its status alone.
fn not_json(status: u16) -> Verdict {
    match status {
        401 => Verdict::BadToken { code: "401".into() },
        403 | 429 => Verdict::Banned {
            code: "IpBanPage".into(),
        },
        500..=599 => Verdict::Unavailable { status },
        _ => Verdict::Malformed {
            status,
            what: "the body is not JSON".into(),
        },
    }
}

/// Classifies an answer of the new API (`api.dingtalk.com`).
///
/// A success status with a body in the error shape (`code`, `message` and `requestid`
/// at the top level) is read as the error it says.
pub fn classify_new(status: u16, body: &[u8]) -> Verdict {
    if (200..300).contains(&status) {
        let parsed = std::str::from_utf8(body)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<&RawValue>(text)
                    .map(Object::of)
                    .map_err(|e| e.to_string())
            });
        return match parsed {
            Ok(v) if ban_of(&v).is_some() || is_error_shape(&v) => classify_error(status, &v),
            Ok(_) => Verdict::Ok,
            Err(e) => Verdict::Malformed {
                status,
                what: format!("the body is not JSON: {e}"),
            },
        };
    }
    if status == 504 {
        return Verdict::Timeout;
    }
    let Some(v) = std::str::from_utf8(body).ok().and_then(Object::parse) else {
        return not_json(status);
    };
    classify_error(status, &v)
}

/// The IP ban's JSON form, `{"status":1111,"wait":5,"source":"x5","punish":"deny"}`, on
/// any status: DingTalk's gateway answers it instead of the API.
fn ban_of(v: &Object<'_>) -> Option<Verdict> {
    let punish = v.text("punish")?;
    let status = v.text("status").unwrap_or_default();
    Some(Verdict::Banned {
        code: format!("IP ban (status {status}, punish {punish})"),
    })
}

/// The new API's error shape: `code`, `message` and `requestid` at the top level.
fn is_error_shape(v: &Object<'_>) -> bool {
    ["code", "message", "requestid"]
        .iter()
        .all(|k| v.get(k).is_some())
}

/// The monthly call quota of a corp: `Forbidden.AccessDenied.ApiCountLimitForOrg`, old
/// API 90020. It lasts until the month ends: not retried.
const QUOTA_CODE: &str = "Forbidden.AccessDenied.ApiCountLimitForOrg";

fn classify_error(status: u16, v: &Object<'_>) -> Verdict {
    if let Some(ban) = ban_of(v) {
        return ban;
    }
    let code = v.text("code").unwrap_or_default();
    let message = v.text("message").unwrap_or_default();
    let request_id = v.text("requestid");
    let detail = v
        .get("accessdenieddetail")
        .and_then(|d| Object::of(d).get("requiredScopes"));
    if let Some(list) = detail.and_then(|l| serde_json::from_str::<Vec<&RawValue>>(l.get()).ok()) {
        // Only well-formed codes: an odd body must not put "" or noise into a grant.
        let required = list
            .iter()
            .filter_map(|c| serde_json::from_str::<String>(c.get()).ok())
            .map(|c| c.trim().to_owned())
            .filter(|c| dingscope_catalog::check_grammar(c).is_ok())
            .collect();
        return Verdict::Denied {
            required,
            code,
            request_id,
        };
    }
    if code.eq_ignore_ascii_case(QUOTA_CODE) {
        return Verdict::QuotaExceeded { code };
    }
    if code.starts_with("Forbidden.AccessDenied.Qp") || status == 429 || code == "system.busy" {
        return Verdict::Throttled { code };
    }
    if code == "Forbidden.AccessDenied.AccessTokenPermissionDenied"
        || message.contains("尚未开通所需的权限")
    {
        return Verdict::Denied {
            required: codes_in_text(&message),
            code,
            request_id,
        };
    }
    if status == 401
        || BAD_TOKEN_CODES
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&code))
    {
        return Verdict::BadToken { code };
    }
    if status >= 500 {
        return Verdict::Unavailable { status };
    }
    Verdict::Other {
        status,
        code,
        message,
        request_id,
    }
}

/// Classifies an answer of the old API (`oapi.dingtalk.com`), which puts errors in
/// `errcode`/`errmsg` of a 200 answer.
pub fn classify_old(status: u16, body: &[u8]) -> Verdict {
    if status == 504 {
        return Verdict::Timeout;
    }
    let Some(v) = std::str::from_utf8(body).ok().and_then(Object::parse) else {
        return not_json(status);
    };
    if let Some(ban) = ban_of(&v) {
        return ban;
    }
    let errcode = match v.get("errcode").map(errcode_of) {
        None => None,
        Some(Some(c)) => Some(c),
        Some(None) => {
            return Verdict::Malformed {
                status,
                what: "`errcode` is not a number".into(),
            };
        }
    };
    let errmsg = v.text("errmsg").unwrap_or_default();
    match errcode {
        None | Some(0) if (200..300).contains(&status) => Verdict::Ok,
        None if status >= 500 => Verdict::Unavailable { status },
        None => classify_new(status, body),
        Some(c @ (60011 | 88)) => {
            let required = codes_in_text(&errmsg);
            if c == 88 && required.is_empty() && !errmsg.contains("60011") {
                return Verdict::Other {
                    status,
                    code: c.to_string(),
                    message: errmsg,
                    request_id: None,
                };
            }
            Verdict::Denied {
                required,
                code: c.to_string(),
                request_id: None,
            }
        }
        Some(c @ (40014 | 41001 | 42001)) => Verdict::BadToken {
            code: c.to_string(),
        },
        Some(90020) => Verdict::QuotaExceeded {
            code: "90020".into(),
        },
        Some(c @ (90001..=90014 | 90018)) => Verdict::Throttled {
            code: c.to_string(),
        },
        Some(c) => Verdict::Other {
            status,
            code: c.to_string(),
            message: errmsg,
            request_id: None,
        },
    }
}

/// The old API's `errcode` as DingTalk or a proxy may write it: an integer, a float with
/// no fraction (`88.0`), or either as a string (`"60011"`).
fn errcode_of(raw: &RawValue) -> Option<i64> {
    let text = serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned());
    let text = text.trim();
    text.parse::<i64>().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// A success body as `T`; anything else is a protocol error naming `what` was expected.
pub(crate) fn parse_answer<T: DeserializeOwned>(
    answer: &Answer,
    endpoint: &str,
    what: &str,
) -> Result<T, Error> {
    serde_json::from_slice(&answer.bytes).map_err(|e| {
        Error::Protocol(ApiError::new(
            endpoint,
            answer.status,
            "",
            &format!("{what}: {e}"),
            None,
            answer.attempts,
        ))
    })
}

/// The error for an answer that is not retried (again).
pub(crate) fn final_error(v: Verdict, endpoint: &str, status: u16, attempt: u32) -> Error {
    let e = |code: &str, message: &str, request_id: Option<String>| {
        ApiError::new(endpoint, status, code, message, request_id, attempt)
    };
    match v {
        Verdict::Throttled { code } => Error::Throttled(e(&code, "throttled", None)),
        Verdict::Banned { code } => Error::Throttled(e(
            &code,
            "this IP address is banned for five minutes (more than 10,000 calls in 20 s)",
            None,
        )),
        Verdict::QuotaExceeded { code } => {
            Error::QuotaExceeded(e(&code, "the corp's monthly call quota is used up", None))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The IP ban in both forms, on either API and any status: the HTML page (403 or
    /// 429) and the JSON body, which read as `Other` on a 403 and as success on a 200.
    #[test]
    fn the_ip_ban_in_both_forms() {
        let json = br#"{"status":1111,"wait":5,"source":"x5","punish":"deny"}"#;
        for status in [200, 403, 429] {
            for classify in [classify_new, classify_old] {
                assert!(
                    matches!(classify(status, json), Verdict::Banned { .. }),
                    "{status}: {:?}",
                    classify(status, json)
                );
            }
        }
        for status in [403, 429] {
            let v = classify_new(status, b"<html>banned</html>");
            assert!(matches!(v, Verdict::Banned { .. }));
            // The error names the status once.
            let e = final_error(v, "GET /v1.0/x", status, 1).to_string();
            assert!(!e.contains(&format!("{status} {status}")), "{e}");
            assert!(e.contains("IpBanPage") && e.contains("banned"), "{e}");
        }
        assert!(!Verdict::Banned { code: "x".into() }.is_retryable());
        assert_eq!(classify_new(200, br#"{"status":1111}"#), Verdict::Ok);
    }

    #[test]
    fn new_api_denials_in_every_shape() {
        let lower = br#"{"code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","message":"x","requestid":"r1","accessdenieddetail":{"requiredScopes":["Contact.User.Read"]}}"#;
        let camel = br#"{"Code":"Forbidden.AccessDenied.AccessTokenPermissionDenied","Message":"x","RequestId":"r1","AccessDeniedDetail":{"RequiredScopes":["Contact.User.Read"]}}"#;
        for body in [&lower[..], &camel[..]] {
            assert_eq!(
                classify_new(403, body),
                Verdict::Denied {
                    required: vec!["Contact.User.Read".into()],
                    code: "Forbidden.AccessDenied.AccessTokenPermissionDenied".into(),
                    request_id: Some("r1".into()),
                }
            );
        }
        let message_only = "{\"code\":\"Forbidden.AccessDenied.AccessTokenPermissionDenied\",\"message\":\"应用尚未开通所需的权限：[Calendar.Event.Write]，点击链接申请并开通即可：https://open-dev.dingtalk.com/appscope/apply?content=ding1%23Calendar.Event.Write\"}";
        match classify_new(403, message_only.as_bytes()) {
            Verdict::Denied { required, .. } => assert_eq!(required, ["Calendar.Event.Write"]),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn old_api_denials() {
        let live = "{\"errcode\":88,\"errmsg\":\"ding talk error[subcode=60011,submsg=应用尚未开通所需的权限：[qyapi_get_member_by_mobile]，点击链接申请并开通即可：..., {requiredScopes=[qyapi_get_member_by_mobile]}]\"}";
        match classify_old(200, live.as_bytes()) {
            Verdict::Denied { required, code, .. } => {
                assert_eq!(required, ["qyapi_get_member_by_mobile"]);
                assert_eq!(code, "88");
            }
            v => panic!("{v:?}"),
        }
        assert!(
            matches!(classify_old(200, br#"{"errcode":60011,"errmsg":"no"}"#), Verdict::Denied { required, .. } if required.is_empty())
        );
        assert!(matches!(
            classify_old(200, br#"{"errcode":88,"errmsg":"other"}"#),
            Verdict::Other { .. }
        ));
    }

    #[test]
    fn tokens_throttling_timeouts() {
        assert!(matches!(classify_new(401, b"{}"), Verdict::BadToken { .. }));
        assert!(matches!(
            classify_new(400, br#"{"code":"accesstoken.expired"}"#),
            Verdict::BadToken { .. }
        ));
        assert!(matches!(
            classify_old(200, br#"{"errcode":40014}"#),
            Verdict::BadToken { .. }
        ));
        for code in [
            "QpsLimitForApi",
            "QpmLimitForAppkeyAndApi",
            "QpsLimitForSuitekeyAndOrgAndApi",
        ] {
            let body = format!("{{\"code\":\"Forbidden.AccessDenied.{code}\"}}");
            assert!(matches!(
                classify_new(403, body.as_bytes()),
                Verdict::Throttled { .. }
            ));
        }
        assert!(matches!(
            classify_new(429, br#"{"code":"system.busy"}"#),
            Verdict::Throttled { .. }
        ));
        assert!(matches!(
            classify_old(200, br#"{"errcode":90002,"errmsg":"x"}"#),
            Verdict::Throttled { .. }
        ));
        assert_eq!(classify_new(504, b""), Verdict::Timeout);
        assert_eq!(
            classify_new(503, b"{}"),
            Verdict::Unavailable { status: 503 }
        );
    }

    /// An empty or non-code entry in `requiredScopes` is not taken as a code.
    /// A denial message with 40,000 distinct codes gives the first few, each once.
    #[test]
    fn codes_in_a_long_text_are_capped() {
        let codes: Vec<String> = (0..40_000)
            .map(|i| format!("Custom.Code{}.Read", to_letters(i)))
            .collect();
        let text = format!("requiredScopes=[{}]", codes.join(","));
        let found = codes_in_text(&text);
        assert_eq!(found.len(), MAX_CODES_IN_TEXT);
        assert_eq!(found[..3], codes[..3]);
        let repeated = format!("[{}]", vec!["Contact.User.Read"; 10_000].join(","));
        assert_eq!(codes_in_text(&repeated), ["Contact.User.Read"]);
    }

    /// `n` as letters only, as a code segment must be.
    fn to_letters(mut n: usize) -> String {
        let mut s = String::new();
        loop {
            s.push((b'a' + (n % 26) as u8) as char);
            n /= 26;
            if n == 0 {
                return s;
            }
        }
    }

    /// Old-API codes in every spelling, the QPS and quota codes, and a success status
    /// with an error body.
    #[test]
    fn codes_in_every_spelling_are_typed() {
        for body in [
            br#"{"errcode":"60011","errmsg":"requiredScopes=[Contact.User.Read]"}"#.as_slice(),
            br#"{"errcode":60011.0,"errmsg":"requiredScopes=[Contact.User.Read]"}"#,
            br#"{"errcode":" 60011 ","errmsg":"requiredScopes=[Contact.User.Read]"}"#,
        ] {
            assert!(
                matches!(classify_old(200, body), Verdict::Denied { ref required, .. } if required == &["Contact.User.Read"]),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(matches!(
            classify_old(200, br#"{"errcode":"0"}"#),
            Verdict::Ok
        ));
        assert!(matches!(
            classify_old(200, br#"{"errcode":0.0}"#),
            Verdict::Ok
        ));
        assert!(matches!(
            classify_old(200, br#"{"errcode":"abc"}"#),
            Verdict::Malformed { .. }
        ));
        assert!(matches!(
            classify_old(200, br#"{"errcode":90018,"errmsg":"qps"}"#),
            Verdict::Throttled { .. }
        ));
        let quota = classify_old(200, br#"{"errcode":90020,"errmsg":"quota"}"#);
        assert!(matches!(quota, Verdict::QuotaExceeded { .. }), "{quota:?}");
        assert!(!quota.is_retryable());
        let quota = classify_new(
            403,
            br#"{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"m","requestid":"r"}"#,
        );
        assert!(matches!(quota, Verdict::QuotaExceeded { .. }), "{quota:?}");
        let hidden = classify_new(
            200,
            br#"{"code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"m","requestid":"r"}"#,
        );
        assert!(matches!(hidden, Verdict::Throttled { .. }), "{hidden:?}");
        assert!(matches!(
            classify_new(200, br#"{"code":"x","result":[]}"#),
            Verdict::Ok
        ));
    }

    #[test]
    fn required_scopes_keep_only_codes() {
        let body = br#"{"AccessDeniedDetail":{"RequiredScopes":["", 3, null, " snsapi_base ", "no way"]}}"#;
        match classify_new(403, body) {
            Verdict::Denied { required, .. } => assert_eq!(required, ["snsapi_base"]),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn malformed_bodies() {
        assert!(matches!(
            classify_new(200, b"{\"a\":"),
            Verdict::Malformed { .. }
        ));
        assert!(matches!(
            classify_old(200, b"\xff\xfe"),
            Verdict::Malformed { .. }
        ));
        assert!(matches!(
            classify_new(400, b"nope"),
            Verdict::Malformed { .. }
        ));
        assert!(codes_in_text("[not a code] and [a b]").is_empty());
    }
}
