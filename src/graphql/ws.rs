//! GraphQL over WebSocket: `graphql-transport-ws` and the legacy `graphql-ws`
//! (subscriptions-transport-ws) protocols, one task per connection.
//!
//! Why not async-graphql's own protocol stream: with 10,000 subscribers of one
//! change, each delivery went through a copy of the response, its
//! serialization, two more tasks (a sink and a writer) and a lock around the
//! socket. Here each subscription yields its payload already serialized (a
//! shared execution serializes once for all its members, see `shared`), and
//! the connection's task frames it with its id and writes it to the socket
//! itself.
//!
//! Liveness: the server sends a WebSocket ping every `ping_every`, which
//! browsers and WebSocket libraries answer by themselves; a connection from
//! which nothing (pong or message) arrived for two intervals is closed, and so
//! is one whose writes stay blocked that long (a peer that stopped reading).
//! The `connection_init` message must arrive within the ping interval, at
//! most `INIT_TIMEOUT`; otherwise the connection is closed with 4408.
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{ClientMessage, WebSocketProtocols};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{AbortHandle, Abortable, BoxStream, SelectAll};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::time::{Instant, timeout};

use super::shared::SharedExecutor;
use crate::metrics::{Metrics, Tracked};

/// The longest a connection may stay without `connection_init` (shorter when
/// the ping interval is).
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one subscription's stream yields: a serialized payload, or its end.
type Item = (Arc<str>, Option<Arc<str>>);

/// Why a connection ends, as a close frame.
struct Close(u16, String);

struct Connection {
    socket: WebSocket,
    protocol: WebSocketProtocols,
    ping_every: Duration,
}

impl Connection {
    /// Writes a frame; a peer whose writes stay blocked for two ping
    /// intervals has stopped reading and is dropped.
    async fn send(&mut self, msg: Message) -> Result<(), ()> {
        match timeout(self.ping_every * 2, self.socket.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    async fn send_json(&mut self, value: Value) -> Result<(), ()> {
        self.send(Message::Text(value.to_string().into())).await
    }

    async fn close(mut self, Close(code, reason): Close) {
        let _ = self
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }

    /// A subscription's payload, framed with its id.
    async fn send_payload(&mut self, id: &str, payload: &str) -> Result<(), ()> {
        let kind = match self.protocol {
            WebSocketProtocols::GraphQLWS => "next",
            WebSocketProtocols::SubscriptionsTransportWS => "data",
        };
        let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
        let mut text = String::with_capacity(payload.len() + id.len() + 40);
        text.push_str("{\"id\":");
        text.push_str(&id);
        text.push_str(",\"type\":\"");
        text.push_str(kind);
        text.push_str("\",\"payload\":");
        text.push_str(payload);
        text.push('}');
        self.send(Message::Text(text.into())).await
    }
}

/// The first protocol of the upgrade request's `Sec-WebSocket-Protocol` that
/// this server speaks.
pub fn protocol(headers: &axum::http::HeaderMap) -> Option<WebSocketProtocols> {
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().parse().ok())
}

/// Serves one upgraded connection until it closes. `init` turns the
/// `connection_init` payload into the connection's data (its caller), or
/// refuses it with a message.
pub async fn serve<F, Fut>(
    socket: WebSocket,
    protocol: WebSocketProtocols,
    (executor, metrics): (SharedExecutor, Metrics),
    ping_every: Duration,
    init: F,
    going_away: impl Future<Output = ()>,
) where
    F: FnOnce(Value) -> Fut,
    Fut: Future<Output = Result<Data, String>>,
{
    let mut conn = Connection {
        socket,
        protocol,
        ping_every,
    };
    // When the server shuts down, the client is told so (1001) whatever
    // the connection was doing, and may reconnect to another instance.
    let going_away = std::pin::pin!(going_away);
    let mut going_away = futures_util::FutureExt::fuse(going_away);
    let shut = || Close(1001, "server shutting down".into());
    let handshaken = tokio::select! {
        r = handshake(&mut conn, init) => r,
        _ = &mut going_away => Err(Some(shut())),
    };
    let data = match handshaken {
        Ok(data) => Arc::new(data),
        Err(Some(close)) => return conn.close(close).await,
        Err(None) => return,
    };
    let outcome = tokio::select! {
        o = run(&mut conn, &executor, &metrics, data) => o,
        _ = &mut going_away => Some(shut()),
    };
    if let Some(close) = outcome {
        conn.close(close).await;
    }
}

/// Reads until `connection_init`, then acknowledges it or refuses.
async fn handshake<F, Fut>(conn: &mut Connection, init: F) -> Result<Data, Option<Close>>
where
    F: FnOnce(Value) -> Fut,
    Fut: Future<Output = Result<Data, String>>,
{
    let deadline = Instant::now() + conn.ping_every.min(INIT_TIMEOUT);
    let payload = loop {
        let frame = match tokio::time::timeout_at(deadline, conn.socket.recv()).await {
            Err(_) => {
                return Err(Some(Close(
                    4408,
                    "Connection initialisation timeout".into(),
                )));
            }
            Ok(None | Some(Err(_))) => return Err(None),
            Ok(Some(Ok(frame))) => frame,
        };
        let Some(text) = text_of(&frame) else {
            if matches!(frame, Message::Close(_)) {
                return Err(None);
            }
            continue;
        };
        match ClientMessage::from_bytes(text) {
            Ok(ClientMessage::ConnectionInit { payload }) => break payload.unwrap_or_default(),
            Ok(ClientMessage::Ping { .. }) => {
                if conn.send_json(json!({"type": "pong"})).await.is_err() {
                    return Err(None);
                }
            }
            Ok(ClientMessage::Pong { .. }) => {}
            Ok(ClientMessage::ConnectionTerminate) => return Err(None),
            Ok(_) => return Err(Some(Close(4401, "Unauthorized".into()))),
            Err(e) => return Err(Some(Close(4400, invalid_message(&e)))),
        }
    };
    match init(payload).await {
        Ok(data) => {
            conn.send_json(json!({"type": "connection_ack"}))
                .await
                .map_err(|_| None)?;
            Ok(data)
        }
        Err(message) => {
            if conn.protocol == WebSocketProtocols::SubscriptionsTransportWS {
                let _ = conn
                    .send_json(json!({"type": "connection_error", "payload": {"message": message}}))
                    .await;
            }
            Err(Some(Close(4403, message)))
        }
    }
}

fn text_of(frame: &Message) -> Option<&[u8]> {
    match frame {
        Message::Text(t) => Some(t.as_bytes()),
        Message::Binary(b) => Some(b),
        _ => None,
    }
}

fn invalid_message(e: &serde_json::Error) -> String {
    // Close reasons are limited to 123 bytes.
    let mut reason = format!("Invalid message received: {e}");
    if reason.len() > 120 {
        let mut end = 120;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// The acknowledged connection: subscriptions, pings, messages.
async fn run(
    conn: &mut Connection,
    executor: &SharedExecutor,
    metrics: &Metrics,
    data: Arc<Data>,
) -> Option<Close> {
    let mut streams: SelectAll<BoxStream<'static, Item>> = SelectAll::new();
    // Each live subscription holds its place in the metrics' gauge.
    let mut live: HashMap<Arc<str>, (AbortHandle, Tracked)> = HashMap::new();
    let mut heard = Instant::now();
    let ping_every = conn.ping_every;
    let mut tick = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            frame = conn.socket.recv() => {
                let frame = match frame {
                    Some(Ok(frame)) => frame,
                    _ => return None,
                };
                heard = Instant::now();
                let Some(text) = text_of(&frame) else {
                    if matches!(frame, Message::Close(_)) {
                        return None;
                    }
                    continue;
                };
                let message = match ClientMessage::from_bytes(text) {
                    Ok(m) => m,
                    Err(e) => return Some(Close(4400, invalid_message(&e))),
                };
                match message {
                    ClientMessage::ConnectionInit { .. } => {
                        return Some(Close(4429, "Too many initialisation requests".into()));
                    }
                    ClientMessage::Start { id, payload } => {
                        let id: Arc<str> = id.into();
                        if live.contains_key(&id) {
                            return Some(Close(4409, format!("Subscriber for {id} already exists")));
                        }
                        let (handle, registration) = AbortHandle::new_pair();
                        let payloads = executor.subscribe(payload, data.clone());
                        let tag = id.clone();
                        let tagged = payloads
                            .map(move |p| (tag.clone(), Some(p)))
                            .chain(stream::once({
                                let tag = id.clone();
                                async move { (tag, None) }
                            }));
                        streams.push(Abortable::new(tagged, registration).boxed());
                        live.insert(id, (handle, metrics.subscription("graphql")));
                    }
                    ClientMessage::Stop { id } => {
                        if let Some((handle, _)) = live.remove(id.as_str()) {
                            handle.abort();
                            if conn.protocol == WebSocketProtocols::SubscriptionsTransportWS
                                && conn.send_json(json!({"type": "complete", "id": id})).await.is_err()
                            {
                                return None;
                            }
                        }
                    }
                    ClientMessage::ConnectionTerminate => return None,
                    ClientMessage::Ping { .. } => {
                        if conn.send_json(json!({"type": "pong"})).await.is_err() {
                            return None;
                        }
                    }
                    ClientMessage::Pong { .. } => {}
                }
            }
            Some((id, item)) = streams.next(), if !streams.is_empty() => {
                let sent = match item {
                    Some(payload) => conn.send_payload(&id, &payload).await,
                    None => {
                        live.remove(&id);
                        conn.send_json(json!({"type": "complete", "id": &*id})).await
                    }
                };
                if sent.is_err() {
                    return None;
                }
            }
            _ = tick.tick() => {
                if heard.elapsed() > ping_every * 2 {
                    return Some(Close(1001, "no answer to pings".into()));
                }
                if conn.send(Message::Ping(Default::default())).await.is_err() {
                    return None;
                }
            }
        }
    }
}
