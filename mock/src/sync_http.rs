//! SyncHTTP: the mock pushes encrypted events to an app's URL, as DingTalk does, and
//! pushes again after a pause (10 s and 30 s at DingTalk) until the app answers the
//! encrypted `success`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use dingscope::client::callback::CallbackCrypto;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// What a push came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// Requests sent.
    pub attempts: u32,
    /// Whether the app answered the encrypted, signed `success`.
    pub success: bool,
}

/// Pushes `payload` (a decrypted SyncHTTP payload) to `url` (`http://127.0.0.1:PORT/path`),
/// encrypted with `crypto`, once and then after each of `pauses` until it is answered.
pub async fn push(
    url: &str,
    crypto: &CallbackCrypto,
    payload: &Value,
    pauses: &[Duration],
) -> PushOutcome {
    let mut attempts = 0;
    for pause in std::iter::once(&Duration::ZERO).chain(pauses) {
        tokio::time::sleep(*pause).await;
        attempts += 1;
        if send(url, crypto, payload).await.unwrap_or(false) {
            return PushOutcome {
                attempts,
                success: true,
            };
        }
    }
    PushOutcome {
        attempts,
        success: false,
    }
}

/// A SyncHTTP payload of `rows`, each `(biz_type, corp_id, biz_data)`.
pub fn payload(rows: &[(i64, &str, Value)]) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let rows: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, (biz_type, corp, data))| {
            json!({
                "biz_type": biz_type, "biz_id": format!("biz{i}"), "corp_id": corp,
                "subscribe_id": "mock-subscription", "gmt_create": now, "gmt_modified": now,
                "open_cursor": i, "id": i, "status": 0, "biz_data": data.to_string(),
            })
        })
        .collect();
    json!({"EventType": "SYNC_HTTP_PUSH_HIGH", "bizData": rows})
}

async fn send(url: &str, crypto: &CallbackCrypto, payload: &Value) -> Result<bool, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let host = uri.host().ok_or("no host")?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let nonce = format!("{:08x}", rand_u32());
    let encrypt = crypto.encrypt(&payload.to_string());
    let signature = crypto.signature(&timestamp, &nonce, &encrypt);
    let path = format!(
        "{}?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}",
        uri.path()
    );
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let request = hyper::Request::post(path)
        .header("host", format!("{host}:{port}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            json!({"encrypt": encrypt}).to_string(),
        )))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Ok(false);
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let reply: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let field = |k: &str| reply.get(k).and_then(Value::as_str).unwrap_or_default();
    Ok(crypto
        .verify(
            field("msg_signature"),
            field("timeStamp"),
            field("nonce"),
            field("encrypt"),
        )
        .is_ok()
        && field("nonce") == nonce
        && crypto
            .decrypt(field("encrypt"))
            .is_ok_and(|m| m == "success"))
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}
