//! SIGTERM on the real binary: requests in flight finish (within the grace
//! period), WebSockets are closed with 1001, and what was acknowledged stays.
use std::process::Command;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::cli::{Server, gql, start_with};
use crate::helpers::test_config;

fn sigterm(server: &Server) {
    let pid = server.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
}

/// Waits for the process to exit; its status and how long it took.
async fn exit(server: &mut Server, at_most: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    while started.elapsed() < at_most {
        if let Some(status) = server.child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the server did not exit within {at_most:?} of SIGTERM");
}

/// A sign-up whose body arrives in two parts, `pause` apart: the request is
/// in flight (headers read, body awaited) for that long.
fn slow_sign_up(base: &str, key: &str, email: &str, pause: Duration) -> reqwest::RequestBuilder {
    let query = "mutation($i: SignUpInput!) { signUp(input: $i) { token } }";
    let body = json!({"query": query, "variables": {"i": {"email": email, "password": "correct horse battery"}}})
        .to_string()
        .into_bytes();
    let (head, tail) = body.split_at(body.len() / 2);
    let (head, tail) = (head.to_vec(), tail.to_vec());
    let parts = futures_util::stream::iter([(head, Duration::ZERO), (tail, pause)]).then(
        |(bytes, wait)| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, std::io::Error>(bytes)
        },
    );
    reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .header("x-api-key", key)
        .body(reqwest::Body::wrap_stream(parts))
}

/// Starts a slow sign-up, then sends SIGTERM while it is in flight.
async fn sign_up_then_sigterm(
    server: &Server,
    key: &str,
    email: &str,
    pause: Duration,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let request = tokio::spawn(slow_sign_up(&server.base, key, email, pause).send());
    tokio::time::sleep(Duration::from_millis(400)).await;
    sigterm(server);
    request
}

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_closes_websockets_with_1001_and_keeps_what_it_acknowledged()
 {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let mut server = start_with(dir.path(), &db, &[]).await;
    let pk = server.key("publishable key:").unwrap();

    let ws_url = format!("{}/graphql", server.base.replacen("http", "ws", 1));
    let mut req = ws_url.into_client_request().unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"x-api-key": pk}});
    ws.send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let ack = ws.next().await.unwrap().unwrap();
    assert!(ack.to_string().contains("connection_ack"), "{ack}");

    let in_flight = sign_up_then_sigterm(
        &server,
        &pk,
        "inflight@example.com",
        Duration::from_millis(1500),
    )
    .await;

    // The WebSocket is told at once, with "going away".
    let close = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame soon after SIGTERM");
    let frame = close.expect("a close code");
    assert_eq!(u16::from(frame.code), 1001, "{frame:?}");

    // The request in flight is answered in full.
    let res = in_flight
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["data"]["signUp"]["token"].is_string(), "{body}");

    let (status, _) = exit(&mut server, Duration::from_secs(10)).await;
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    // What was acknowledged is there after a restart.
    let mut again = start_with(dir.path(), &db, &[]).await;
    let login = gql(
        &again.base,
        Some(&pk),
        None,
        "mutation { logIn(input: {email: \"inflight@example.com\", password: \"correct horse battery\"}) { token } }",
    )
    .await;
    assert!(login["data"]["logIn"]["token"].is_string(), "{login}");
    sigterm(&again);
    assert!(exit(&mut again, Duration::from_secs(10)).await.0.success());
}

#[tokio::test]
async fn a_request_that_outlasts_the_grace_period_does_not_hold_the_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let grace = [("AUTHGRAPH_SHUTDOWN_GRACE_SECS", "1")];
    let mut server = start_with(dir.path(), &db, &grace).await;
    let pk = server.key("publishable key:").unwrap();
    let stuck =
        sign_up_then_sigterm(&server, &pk, "stuck@example.com", Duration::from_secs(30)).await;
    let (status, took) = exit(&mut server, Duration::from_secs(10)).await;
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(5),
        "took {took:?} with a 1 s grace"
    );
    assert!(
        took >= Duration::from_millis(900),
        "left after {took:?}, before the grace"
    );
    stuck.abort();
}
