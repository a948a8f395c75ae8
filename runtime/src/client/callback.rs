//! SyncHTTP and HTTP callbacks (feature `callback`): DingTalk's encrypted pushes to the
//! app's URL, verified, decrypted, applied to the client like Stream events, and answered
//! with the encrypted `success`.
//!
//! DingTalk's scheme: AES-256-CBC with the key `base64(EncodingAESKey + "=")` and its
//! first 16 bytes as the IV; the plaintext is 16 random bytes, the message's length (4
//! bytes, big-endian), the message and the owner key (the suite key of an ISV app, the app
//! key of an internal app's subscription, or the corp id of old corp callbacks), padded to
//! a multiple of **32** bytes; the signature is the SHA-1 hex of the sorted strings
//! `[token, timestamp, nonce, encrypt]`, concatenated. Bad input of every kind is a typed
//! [`CallbackError`], never a panic.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::DingTalk;
use super::events::{Event, RawEvent};
use super::recent::Recent;
use crate::Secret;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// The block the plaintext is padded to: 32 bytes, as DingTalk's own code does.
const PAD: usize = 32;
/// The longest request body read.
pub const MAX_BODY: usize = 1 << 20;

/// Why a callback was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackError {
    /// The EncodingAESKey is not 43 characters of base64.
    BadKey,
    /// A query parameter is missing: `msg_signature`/`signature`, `timeStamp`/`timestamp`
    /// or `nonce`.
    Missing(&'static str),
    /// The body is not `{"encrypt": "..."}`, or the payload not the JSON expected.
    BadJson(String),
    /// The signature does not match.
    BadSignature,
    /// `encrypt` is not base64.
    BadBase64,
    /// The ciphertext is empty or not whole AES blocks.
    BadCiphertext,
    /// The padding is not DingTalk's.
    BadPadding,
    /// The length prefix points past the plaintext, or the message is not UTF-8.
    BadLength,
    /// The owner key at the end is not this app's.
    WrongOwner,
    /// The body is longer than [`MAX_BODY`].
    TooLarge,
    /// A signature and nonce seen within the replay window.
    Replay,
    /// The client could not apply an event (the store is down, say); DingTalk retries.
    Apply(String),
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::BadKey => {
                f.write_str("the EncodingAESKey is not 43 characters of base64")
            }
            CallbackError::Missing(p) => write!(f, "the query parameter {p} is missing"),
            CallbackError::BadJson(w) => write!(f, "not the JSON expected: {w}"),
            CallbackError::BadSignature => f.write_str("the signature does not match"),
            CallbackError::BadBase64 => f.write_str("`encrypt` is not base64"),
            CallbackError::BadCiphertext => f.write_str("the ciphertext is not whole AES blocks"),
            CallbackError::BadPadding => f.write_str("the padding is not DingTalk's"),
            CallbackError::BadLength => f.write_str("the length prefix does not fit the plaintext"),
            CallbackError::WrongOwner => f.write_str("the message is for another app"),
            CallbackError::TooLarge => write!(f, "the body is longer than {MAX_BODY} bytes"),
            CallbackError::Replay => f.write_str("a signature and nonce already seen"),
            CallbackError::Apply(e) => write!(f, "the event could not be applied: {e}"),
        }
    }
}

impl std::error::Error for CallbackError {}

/// DingTalk's callback encryption for one app: the token, the EncodingAESKey and the
/// owner key. The token and the key are never printed.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: Secret,
    key: Arc<[u8; 32]>,
    owner: String,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl CallbackCrypto {
    /// The crypto of an app whose callback settings are `token` and `encoding_aes_key`
    /// (43 characters), for messages to `owner_key` (the suite key, app key or corp id).
    pub fn new(
        token: Secret,
        encoding_aes_key: &Secret,
        owner_key: impl Into<String>,
    ) -> Result<CallbackCrypto, CallbackError> {
        let text = encoding_aes_key.expose();
        if text.len() != 43 {
            return Err(CallbackError::BadKey);
        }
        // DingTalk's keys are 43 characters whose last one may carry bits beyond the 32
        // bytes: read them as DingTalk's own (Java) code does, ignoring those bits.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = lenient
            .decode(format!("{text}="))
            .map_err(|_| CallbackError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CallbackError::BadKey)?;
        Ok(CallbackCrypto {
            token,
            key: Arc::new(key),
            owner: owner_key.into(),
        })
    }

    /// The signature of a message: the SHA-1 hex of the sorted strings
    /// `[token, timestamp, nonce, encrypt]`, concatenated.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.expose(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let digest = Sha1::digest(parts.concat().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks `signature` in constant time.
    pub fn verify(
        &self,
        signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CallbackError> {
        let expected = self.signature(timestamp, nonce, encrypt);
        if bool::from(
            expected
                .as_bytes()
                .ct_eq(signature.trim().to_ascii_lowercase().as_bytes()),
        ) {
            Ok(())
        } else {
            Err(CallbackError::BadSignature)
        }
    }

    /// The message inside `encrypt`, checked to be for this app.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CallbackError> {
        let mut data = STANDARD
            .decode(encrypt.trim())
            .map_err(|_| CallbackError::BadBase64)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CallbackError::BadCiphertext);
        }
        let iv: [u8; 16] = self.key[..16]
            .try_into()
            .map_err(|_| CallbackError::BadKey)?;
        let plain = Decryptor::new(self.key.as_ref().into(), &iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut data)
            .map_err(|_| CallbackError::BadCiphertext)?;
        let pad = usize::from(*plain.last().ok_or(CallbackError::BadPadding)?);
        if pad == 0
            || pad > PAD
            || pad > plain.len()
            || plain[plain.len() - pad..]
                .iter()
                .any(|b| usize::from(*b) != pad)
        {
            return Err(CallbackError::BadPadding);
        }
        let plain = &plain[..plain.len() - pad];
        let header = plain.get(16..20).ok_or(CallbackError::BadLength)?;
        let len = u32::from_be_bytes(header.try_into().map_err(|_| CallbackError::BadLength)?);
        let len = usize::try_from(len).map_err(|_| CallbackError::BadLength)?;
        let end = 20usize.checked_add(len).ok_or(CallbackError::BadLength)?;
        let message = plain.get(20..end).ok_or(CallbackError::BadLength)?;
        if &plain[end..] != self.owner.as_bytes() {
            return Err(CallbackError::WrongOwner);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CallbackError::BadLength)
    }

    /// `message` encrypted for DingTalk, with 16 random bytes in front.
    pub fn encrypt(&self, message: &str) -> String {
        let mut random = [0u8; 16];
        if getrandom::fill(&mut random).is_err() {
            // The random bytes only vary the ciphertext; a clock value serves.
            let t = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            random = t.to_le_bytes();
        }
        self.encrypt_with(random, message)
    }

    /// `message` encrypted with the given 16 leading bytes (for known-answer tests).
    pub fn encrypt_with(&self, random: [u8; 16], message: &str) -> String {
        let mut plain = random.to_vec();
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        plain.extend_from_slice(&len.to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(self.owner.as_bytes());
        let pad = PAD - plain.len() % PAD;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let iv: [u8; 16] = self.key[..16].try_into().unwrap_or([0; 16]);
        let n = plain.len();
        let cipher = Encryptor::new(self.key.as_ref().into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, n)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode(cipher)
    }

    /// The reply DingTalk expects: `{"msg_signature","timeStamp","nonce","encrypt"}`
    /// with `message` (`success`) encrypted.
    pub fn reply(&self, message: &str, timestamp: &str, nonce: &str) -> String {
        let encrypt = self.encrypt(message);
        json!({
            "msg_signature": self.signature(timestamp, nonce, &encrypt),
            "timeStamp": timestamp,
            "nonce": nonce,
            "encrypt": encrypt,
        })
        .to_string()
    }
}

/// The app's handler of events from callbacks: `Err` makes DingTalk push again.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;
type Handler = Arc<
    dyn Fn(Event) -> std::pin::Pin<Box<dyn std::future::Future<Output = HandlerResult> + Send>>
        + Send
        + Sync,
>;

/// Receives DingTalk's callbacks for a client: verifies, decrypts, refuses replays,
/// answers the URL checks, applies every event ([`DingTalk::apply`]) and hands it to the
/// app's handler, and writes the encrypted `success`. Framework-agnostic: give it the
/// query and the body of the POST.
#[derive(Clone)]
pub struct CallbackHandler {
    dt: DingTalk,
    crypto: CallbackCrypto,
    handler: Option<Handler>,
    /// Signatures and nonces seen lately.
    seen: Recent<()>,
}

impl fmt::Debug for CallbackHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackHandler")
            .field("crypto", &self.crypto)
            .finish_non_exhaustive()
    }
}

/// How long a signature and nonce are remembered, and how many at most.
const REPLAY_WINDOW: Duration = Duration::from_secs(600);
const REPLAY_MAX: usize = 100_000;

impl CallbackHandler {
    /// A handler for `dt`'s callbacks with `crypto`.
    pub fn new(dt: DingTalk, crypto: CallbackCrypto) -> CallbackHandler {
        CallbackHandler {
            dt,
            crypto,
            handler: None,
            seen: Recent::new(REPLAY_MAX, REPLAY_WINDOW),
        }
    }

    /// The app's handler, given every event after the client applied it.
    pub fn on_event<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = HandlerResult> + Send + 'static,
    {
        self.handler = Some(Arc::new(move |e| Box::pin(f(e))));
        self
    }

    /// Handles one POST: `query` is its query parameters, `body` its body. Answers the
    /// JSON reply to send with status 200, or why the request is refused (answer it
    /// with a 4xx, or a 5xx for [`CallbackError::Apply`], and DingTalk pushes again).
    pub async fn handle(
        &self,
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<String, CallbackError> {
        if body.len() > MAX_BODY {
            return Err(CallbackError::TooLarge);
        }
        let param = |names: &[&str], what: &'static str| {
            names
                .iter()
                .find_map(|n| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str()))
                .ok_or(CallbackError::Missing(what))
        };
        let signature = param(&["msg_signature", "signature"], "msg_signature")?;
        let timestamp = param(&["timeStamp", "timestamp"], "timestamp")?;
        let nonce = param(&["nonce"], "nonce")?;
        #[derive(Deserialize)]
        struct Body {
            encrypt: String,
        }
        let Body { encrypt } = serde_json::from_slice(body)
            .map_err(|e| CallbackError::BadJson(format!("the body: {e}")))?;
        self.crypto.verify(signature, timestamp, nonce, &encrypt)?;
        self.remember(signature, nonce)?;
        let message = self.crypto.decrypt(&encrypt)?;
        let payload: Value = serde_json::from_str(&message)
            .map_err(|e| CallbackError::BadJson(format!("the payload: {e}")))?;
        for raw in events_of(&payload)? {
            let event = match Event::parse(raw) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "a pushed event that cannot be read; skipped");
                    continue;
                }
            };
            self.dt
                .apply(&event)
                .await
                .map_err(|e| CallbackError::Apply(e.to_string()))?;
            if let Some(h) = &self.handler {
                h(event)
                    .await
                    .map_err(|e| CallbackError::Apply(e.to_string()))?;
            }
        }
        Ok(self.crypto.reply("success", timestamp, nonce))
    }

    /// Refuses a signature and nonce seen within the window.
    fn remember(&self, signature: &str, nonce: &str) -> Result<(), CallbackError> {
        match self.seen.put(&format!("{signature}:{nonce}"), ()) {
            Some(()) => Err(CallbackError::Replay),
            None => Ok(()),
        }
    }
}

impl CallbackError {
    /// The HTTP status to answer: 500 when the client could not apply the event (DingTalk
    /// pushes it again), 413 for a body too large, 401 for a bad signature or a replay,
    /// 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            CallbackError::Apply(_) => 500,
            CallbackError::TooLarge => 413,
            CallbackError::BadSignature | CallbackError::Replay => 401,
            _ => 400,
        }
    }
}

/// `handler` as an axum route for DingTalk's POSTs (feature `axum`):
///
/// ```no_run
/// # fn demo(handler: dingscope::client::callback::CallbackHandler) {
/// let app: axum::Router = axum::Router::new()
///     .route("/dingtalk/callback", dingscope::client::callback::route(handler));
/// # }
/// ```
#[cfg(feature = "axum")]
pub fn route<S: Clone + Send + Sync + 'static>(
    handler: CallbackHandler,
) -> axum::routing::MethodRouter<S> {
    use axum::body::Bytes;
    use axum::extract::RawQuery;
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    axum::routing::post(move |RawQuery(query): RawQuery, body: Bytes| {
        let handler = handler.clone();
        async move {
            let query: Vec<(String, String)> =
                form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            match handler.handle(&query, &body).await {
                Ok(reply) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    reply,
                )
                    .into_response(),
                Err(e) => {
                    tracing::warn!(error = %e, "a DingTalk callback was refused");
                    let status =
                        StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                    (status, e.to_string()).into_response()
                }
            }
        }
    })
}

/// The events in a decrypted payload: none for the URL checks, one per `bizData` row of a
/// SyncHTTP push, or the payload itself for an old-style callback (`EventType`).
pub fn events_of(payload: &Value) -> Result<Vec<RawEvent>, CallbackError> {
    let event_type = payload
        .get("EventType")
        .and_then(Value::as_str)
        .ok_or_else(|| CallbackError::BadJson("no EventType".into()))?;
    match event_type {
        "check_url" | "check_create_suite_url" | "check_update_suite_url" => Ok(Vec::new()),
        "SYNC_HTTP_PUSH_HIGH" | "SYNC_HTTP_PUSH_MEDIUM" => {
            let rows = payload
                .get("bizData")
                .and_then(Value::as_array)
                .ok_or_else(|| CallbackError::BadJson("no bizData".into()))?;
            Ok(rows.iter().filter_map(row_event).collect())
        }
        other => Ok(vec![RawEvent {
            event_type: other.to_owned(),
            corp_id: ["CorpId", "AuthCorpId", "corpId"]
                .iter()
                .find_map(|k| payload.get(k).and_then(Value::as_str))
                .map(str::to_owned),
            event_id: None,
            born_at: None,
            data: payload.clone(),
        }]),
    }
}

/// One `bizData` row: its `biz_data` (a JSON string holding `syncAction`) as an event.
fn row_event(row: &Value) -> Option<RawEvent> {
    let data: Value = match row.get("biz_data")? {
        Value::String(s) => serde_json::from_str(s).ok()?,
        other => other.clone(),
    };
    let biz_type = row
        .get("biz_type")
        .and_then(|t| t.as_i64().or_else(|| t.as_str()?.parse().ok()));
    let event_type = match (biz_type, data.get("syncAction").and_then(Value::as_str)) {
        (_, Some(action)) => action.to_owned(),
        (Some(2), None) => "suite_ticket".to_owned(),
        _ => return None,
    };
    let born_at = row
        .get("gmt_modified")
        .or_else(|| row.get("gmt_create"))
        .and_then(|t| t.as_u64().or_else(|| t.as_str()?.parse().ok()))
        .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)));
    Some(RawEvent {
        event_type,
        corp_id: row
            .get("corp_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        event_id: row.get("biz_id").and_then(Value::as_str).map(str::to_owned),
        born_at,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DingTalk's published known-answer vector.
    fn official() -> CallbackCrypto {
        CallbackCrypto::new(
            Secret::new("mryue"),
            &Secret::new("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"),
            "ding6ccabc44d2c8d38b",
        )
        .unwrap()
    }

    const ENCRYPT: &str = "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3";

    #[test]
    fn the_known_answer_vector() {
        let c = official();
        assert_eq!(
            c.signature("1608001896814", "WL4PK6yA", ENCRYPT),
            "03044561471240d4a14bb09372dfcfd4fd0e40cb"
        );
        c.verify(
            "03044561471240d4a14bb09372dfcfd4fd0e40cb",
            "1608001896814",
            "WL4PK6yA",
            ENCRYPT,
        )
        .unwrap();
        assert_eq!(c.decrypt(ENCRYPT).unwrap(), r#"{"EventType":"check_url"}"#);
        let round = c.encrypt("success");
        assert_eq!(c.decrypt(&round).unwrap(), "success");
        assert_eq!(
            STANDARD.decode(&round).unwrap().len() % 32,
            0,
            "padded to 32 bytes"
        );
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let c = official();
        assert_eq!(
            c.verify("0000", "1608001896814", "WL4PK6yA", ENCRYPT),
            Err(CallbackError::BadSignature)
        );
        assert_eq!(c.decrypt("not base64 !"), Err(CallbackError::BadBase64));
        assert_eq!(c.decrypt(""), Err(CallbackError::BadCiphertext));
        assert_eq!(
            c.decrypt(&STANDARD.encode([1u8; 15])),
            Err(CallbackError::BadCiphertext)
        );
        let other = CallbackCrypto::new(
            Secret::new("mryue"),
            &Secret::new("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"),
            "ding-other",
        )
        .unwrap();
        assert_eq!(other.decrypt(ENCRYPT), Err(CallbackError::WrongOwner));
        // A length prefix of 0x80 and above, and one past the end.
        let long = "é".repeat(200);
        assert_eq!(c.decrypt(&c.encrypt(&long)).unwrap(), long);
        let raw = |plain: Vec<u8>| {
            let iv: [u8; 16] = c.key[..16].try_into().unwrap();
            let mut p = plain.clone();
            let n = p.len();
            STANDARD.encode(
                Encryptor::new(c.key.as_ref().into(), &iv.into())
                    .encrypt_padded_mut::<NoPadding>(&mut p, n)
                    .unwrap(),
            )
        };
        let mut past = vec![0u8; 16];
        past.extend_from_slice(&1000u32.to_be_bytes());
        past.extend(std::iter::repeat_n(12u8, 12));
        assert_eq!(c.decrypt(&raw(past)), Err(CallbackError::BadLength));
        assert_eq!(
            c.decrypt(&raw(vec![0u8; 32])),
            Err(CallbackError::BadPadding)
        );
        assert_eq!(
            c.decrypt(&raw(vec![33u8; 64])),
            Err(CallbackError::BadPadding)
        );
        for key in ["short", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ec!!"] {
            assert_eq!(
                CallbackCrypto::new(Secret::new("t"), &Secret::new(key), "o").unwrap_err(),
                CallbackError::BadKey
            );
        }
        assert!(!format!("{c:?}").contains("mryue"));
    }

    proptest::proptest! {
        #[test]
        fn the_decryptor_and_the_payload_parser_never_panic(text in "\\PC{0,400}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let c = official();
            let _ = c.decrypt(&text);
            let _ = c.decrypt(&STANDARD.encode(&bytes));
            let _ = c.verify(&text, &text, &text, &text);
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let _ = events_of(&v);
            }
            let _ = events_of(&json!({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": [{"biz_type": 4, "biz_data": text.clone(), "corp_id": text}]}));
        }
    }

    #[test]
    fn sync_http_rows_become_events() {
        let payload = json!({
            "EventType": "SYNC_HTTP_PUSH_HIGH",
            "bizData": [
                {"biz_type": 2, "biz_id": "suite1", "corp_id": "dingsuite", "gmt_modified": 1_700_000_000_000u64,
                 "biz_data": r#"{"syncAction":"suite_ticket","suiteTicket":"t-1","syncSeq":"1"}"#},
                {"biz_type": 4, "corp_id": "dingA",
                 "biz_data": r#"{"syncAction":"org_suite_auth","auth_corp_info":{"corpid":"dingA","corp_name":"A"}}"#},
                {"biz_type": 7, "corp_id": "dingA", "biz_data": r#"{"syncAction":"org_micro_app_stop"}"#},
                {"biz_type": 99}
            ]
        });
        let events: Vec<String> = events_of(&payload)
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            events,
            ["suite_ticket", "org_suite_auth", "org_micro_app_stop"]
        );
        assert!(
            events_of(&json!({"EventType": "check_url"}))
                .unwrap()
                .is_empty()
        );
        assert!(events_of(&json!({})).is_err());
    }
}
