//! WebSocket liveness for GraphQL connections.
//!
//! async-graphql's own keep-alive closes a connection whose *client* sent no
//! message for a while, which drops idle subscribers whose library does not
//! ping (the `graphql-ws` npm client does not by default). Instead the server
//! pings: every `ping_every` it sends a WebSocket ping frame, which browsers and
//! WebSocket libraries answer by themselves, and a connection from which
//! nothing (pong or message) arrived for two intervals is closed. All frames go
//! through one writer task, which also keeps the per-connection output bounded
//! (a full queue stalls the GraphQL side, whose subscribers then fall behind
//! and are told so).
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitStream, Stream};
use futures_util::{Sink, SinkExt, StreamExt};

/// Frames queued for one connection before the GraphQL side waits.
const QUEUE: usize = 64;

/// Splits a socket into the sink and stream that the GraphQL layer uses and
/// the writer future that must run beside it.
pub fn split(
    socket: WebSocket,
    ping_every: Duration,
) -> (
    impl Sink<Message> + Send + 'static,
    impl Stream<Item = Result<Message, axum::Error>> + Send + Unpin + 'static,
    impl std::future::Future<Output = ()> + Send + 'static,
) {
    let (mut ws_tx, ws_rx): (_, SplitStream<WebSocket>) = socket.split();
    let heard = Arc::new(Mutex::new(Instant::now()));
    let seen = heard.clone();
    let incoming = ws_rx.inspect(move |frame| {
        if frame.is_ok() {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(QUEUE);
    let writer = async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                frame = rx.recv() => {
                    let Some(frame) = frame else { break };
                    if ws_tx.send(frame).await.is_err() {
                        break;
                    }
                }
                _ = tick.tick() => {
                    let quiet = heard.lock().unwrap_or_else(|e| e.into_inner()).elapsed();
                    if quiet > ping_every * 2 {
                        let _ = ws_tx
                            .send(Message::Close(Some(CloseFrame {
                                code: 1001,
                                reason: "no answer to pings".into(),
                            })))
                            .await;
                        break;
                    }
                    if ws_tx.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = ws_tx.close().await;
    };
    let sink = futures_util::sink::unfold(tx, |tx, frame: Message| async move {
        tx.send(frame).await.map_err(|_| ())?;
        Ok::<_, ()>(tx)
    });
    (sink, incoming, writer)
}
