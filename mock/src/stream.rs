//! DingTalk's Stream gateway: `POST /v1.0/gateway/connections/open` and the WebSocket it
//! points to (on a port of its own, as DingTalk's is on a host of its own), which pushes
//! events on command and records the acknowledgements.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_websockets::Message;

use crate::state::Shared;

/// What the gateway does to a live connection.
#[derive(Debug, Clone)]
pub(crate) enum Command {
    /// Send this text frame.
    Send(String),
    /// Close the socket without a word.
    Drop,
}

/// The gateway's state.
#[derive(Default)]
pub(crate) struct Gateway {
    /// Tickets handed out and not used yet.
    pub tickets: HashSet<String>,
    /// Live connections.
    pub conns: Vec<mpsc::UnboundedSender<Command>>,
    /// Every frame a client sent back, parsed.
    pub acks: Vec<Value>,
    /// Every frame pushed, by messageId, to repeat on command.
    pub pushed: Vec<(String, String)>,
    /// Connections opened (`connections/open` answered).
    pub opens: u64,
    /// Refuse the credentials at `connections/open`.
    pub refuse: bool,
    /// Never answer `connections/open`.
    pub hang: bool,
}

impl Gateway {
    /// Sends `cmd` to every live connection; answers how many took it.
    pub(crate) fn broadcast(&mut self, cmd: &Command) -> usize {
        self.conns.retain(|c| c.send(cmd.clone()).is_ok());
        self.conns.len()
    }
}

/// An EVENT frame of `event_type` for `corp`, with `data` as its JSON string.
pub(crate) fn event_frame(
    message_id: &str,
    event_type: &str,
    corp: Option<&str>,
    data: &Value,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    json!({
        "specVersion": "1.0",
        "type": "EVENT",
        "headers": {
            "appId": "mock-app",
            "connectionId": "mock-connection",
            "contentType": "application/json",
            "messageId": message_id,
            "time": now.to_string(),
            "topic": "*",
            "eventType": event_type,
            "eventId": format!("evt-{message_id}"),
            "eventCorpId": corp.unwrap_or_default(),
            "eventBornTime": now.to_string(),
            "eventUnifiedAppId": "mock-unified-app",
        },
        "data": data.to_string(),
    })
    .to_string()
}

/// A SYSTEM frame of `topic`.
pub(crate) fn system_frame(message_id: &str, topic: &str) -> String {
    json!({
        "specVersion": "1.0",
        "type": "SYSTEM",
        "headers": {
            "contentType": "application/json",
            "messageId": message_id,
            "time": "0",
            "topic": topic,
        },
        "data": "{\"opaque\":\"mock\"}",
    })
    .to_string()
}

/// Serves the gateway's WebSocket on `listener`: a connection whose `ticket` is one
/// handed out is kept, any other is closed at once.
pub(crate) async fn listen(state: Shared, listener: tokio::net::TcpListener) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let Ok((request, ws)) = tokio_websockets::ServerBuilder::new()
                .limits(tokio_websockets::Limits::default().max_payload_len(Some(8 << 20)))
                .accept(tcp)
                .await
            else {
                return;
            };
            let ticket = request
                .uri()
                .query()
                .map(crate::parse_query)
                .unwrap_or_default()
                .into_iter()
                .find(|(k, _)| k == "ticket")
                .map(|(_, v)| v);
            let known = ticket.is_some_and(|t| {
                state
                    .lock()
                    .map(|mut s| s.gateway.tickets.remove(&t))
                    .unwrap_or(false)
            });
            if known {
                serve(state, ws).await;
            }
        });
    }
}

async fn serve<S>(state: Shared, ws: tokio_websockets::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    if let Ok(mut s) = state.lock() {
        s.gateway.conns.push(tx);
    }
    let (mut sink, mut source) = ws.split();
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Command::Send(text)) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Command::Drop) | None => break,
            },
            frame = source.next() => match frame {
                Some(Ok(m)) if m.is_text() => {
                    let text = m.as_text().unwrap_or_default();
                    let v = serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()));
                    if let Ok(mut s) = state.lock() {
                        s.gateway.acks.push(v);
                    }
                }
                Some(Ok(m)) if m.is_close() => break,
                None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
