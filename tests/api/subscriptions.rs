use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::TestApp;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, path: &str, protocol: &str) -> Ws {
    let mut req = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", protocol.parse().unwrap());
    let (ws, res) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket handshake");
    assert_eq!(res.headers()["sec-websocket-protocol"], protocol);
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next JSON message that is not a keep-alive.
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("message in time");
        match msg {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "ping" && v["type"] != "ka" && v["type"] != "pong" {
                    return v;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                return json!({"type": "closed", "frame": format!("{frame:?}")});
            }
            Some(Ok(_)) => continue,
            other => return json!({"type": "closed", "frame": format!("{other:?}")}),
        }
    }
}

#[tokio::test]
async fn user_changed_delivers_own_updates_over_graphql_transport_ws() {
    let app = TestApp::spawn().await;
    let (token, id) = app.user("sub@example.com").await;
    let (other_token, _) = app.user("other-sub@example.com").await;
    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { userChanged { id data } }"}})).await;
    app.await_subscribers(1).await;

    // Another user's change is not delivered; our own is.
    app.update_me(&other_token, json!({"data": {"secret": "not for you"}}))
        .await;
    app.update_me(&token, json!({"data": {"city": "Oslo"}}))
        .await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(
        msg["payload"]["data"]["userChanged"],
        json!({"id": id, "data": {"city": "Oslo"}})
    );

    // After a password change the old token's subscription ends.
    app.gql(
        None,
        Some(&token),
        "mutation { changePassword(input: {currentPassword: \"correct horse battery\", newPassword: \"fresh passphrase\"}) { token } }",
        json!({}),
    )
    .await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "INVALID_TOKEN",
        "{msg}"
    );
    assert_eq!(next(&mut ws).await["type"], "complete");
}

#[tokio::test]
async fn legacy_graphql_ws_protocol_works_on_the_graphql_path() {
    let app = TestApp::spawn().await;
    let (token, id) = app.user("legacy@example.com").await;
    let mut ws = connect(&app, "/graphql", "graphql-ws").await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({"id": "7", "type": "start", "payload": {"query": "subscription { userChanged { id } }"}})).await;
    app.await_subscribers(1).await;
    app.update_me(&token, json!({"append": {"tags": "x"}}))
        .await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "data", "{msg}");
    assert_eq!(msg["payload"]["data"]["userChanged"]["id"], id);
}

#[tokio::test]
async fn a_bad_token_in_connection_init_is_refused() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(&mut ws, json!({"type": "connection_init", "payload": {"authorization": "Bearer forged.token.here"}})).await;
    let msg = next(&mut ws).await;
    assert_ne!(msg["type"], "connection_ack", "{msg}");
}

#[tokio::test]
async fn subscribing_without_a_user_token_is_an_error() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"x-api-key": app.pk}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { userChanged { id } }"}})).await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    assert!(msg["payload"]["data"].is_null());
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}

pub async fn subscribe(app: &TestApp, auth: Value, query: &str, variables: Value) -> Ws {
    let mut ws = connect(app, "/graphql/ws", "graphql-transport-ws").await;
    send(&mut ws, json!({"type": "connection_init", "payload": auth})).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    let before = app.services.events.subscriber_count();
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})).await;
    app.await_subscribers(before + 1).await;
    ws
}

const USERS_CHANGED: &str = "subscription($w: UserWhere) { usersChanged(where: $w) { kind changedFields user { email data } } }";

#[tokio::test]
async fn users_changed_delivers_matching_changes_to_the_secret_key() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("watch@example.com").await;
    let filter = json!({"field": "city", "value": "Oslo"});
    let mut ws = subscribe(
        &app,
        json!({"x-api-key": app.sk}),
        USERS_CHANGED,
        json!({"w": filter}),
    )
    .await;
    app.update_me(&token, json!({"data": {"city": "Paris"}}))
        .await;
    app.update_me(&token, json!({"data": {"city": "Oslo"}}))
        .await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    let change = &msg["payload"]["data"]["usersChanged"];
    assert_eq!(change["kind"], "UPDATED");
    assert_eq!(change["changedFields"], json!(["city"]));
    assert_eq!(
        change["user"],
        json!({"email": "watch@example.com", "data": {"city": "Oslo"}})
    );

    // Without a filter, sign-ups arrive too.
    let mut all = subscribe(&app, json!({"x-api-key": app.sk}), USERS_CHANGED, json!({})).await;
    app.user("new@example.com").await;
    let msg = next(&mut all).await;
    assert_eq!(
        msg["payload"]["data"]["usersChanged"]["kind"], "CREATED",
        "{msg}"
    );

    // A publishable key may not watch everyone.
    let mut denied = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(
        &mut denied,
        json!({"type": "connection_init", "payload": {"x-api-key": app.pk}}),
    )
    .await;
    assert_eq!(next(&mut denied).await["type"], "connection_ack");
    send(
        &mut denied,
        json!({"id": "1", "type": "subscribe", "payload": {"query": USERS_CHANGED}}),
    )
    .await;
    let msg = next(&mut denied).await;
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );
}

#[tokio::test]
async fn a_logged_out_session_closes_its_subscription_without_any_event() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("bye@example.com").await;
    let mut ws = subscribe(
        &app,
        json!({"authorization": format!("Bearer {token}")}),
        "subscription { userChanged { id } }",
        json!({}),
    )
    .await;
    app.gql(None, Some(&token), "mutation { logOut }", json!({}))
        .await;
    // The periodic liveness check (every 5 s) ends it.
    let msg = next(&mut ws).await;
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "INVALID_TOKEN",
        "{msg}"
    );
    assert_eq!(next(&mut ws).await["type"], "complete");
}

#[tokio::test]
async fn websocket_connections_beyond_the_limit_get_a_clear_503() {
    let app = TestApp::spawn_custom(None, |c| c.max_ws_connections = 1).await;
    let _first = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 503),
        other => panic!("expected a 503, got {other:?}"),
    }
}

/// Two server instances on one Postgres database: a subscriber on the first
/// receives a change made through the second, exactly once, and each accepts
/// the other's tokens (the signing key lives in the shared database). On
/// SQLite there is one instance per database file, so this runs in the
/// Postgres pass of the suite.
#[tokio::test]
async fn a_change_through_one_instance_reaches_subscribers_of_another_on_postgres() {
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let (a, b) = TestApp::spawn_pair().await;
    assert!(
        b.pk.is_empty(),
        "the second instance found the default project"
    );
    let (token, id) = a.user("twice@example.com").await;
    // B accepts A's token.
    assert_eq!(b.me(&token).await["data"]["me"]["id"], id.as_str());
    let mut ws = subscribe(
        &a,
        json!({"authorization": format!("Bearer {token}")}),
        "subscription { userChanged { data } }",
        json!({}),
    )
    .await;
    let mut admin = subscribe(&a, json!({"x-api-key": a.sk}), USERS_CHANGED, json!({})).await;
    b.update_me(&token, json!({"data": {"via": "b"}})).await;
    let msg = next(&mut ws).await;
    assert_eq!(
        msg["payload"]["data"]["userChanged"]["data"],
        json!({"via": "b"}),
        "{msg}"
    );
    let msg = next(&mut admin).await;
    assert_eq!(
        msg["payload"]["data"]["usersChanged"]["kind"], "UPDATED",
        "{msg}"
    );
    // Exactly once: nothing else arrives for this change.
    let more = tokio::time::timeout(Duration::from_millis(700), ws.next()).await;
    assert!(
        more.is_err() || matches!(more, Ok(Some(Ok(Message::Ping(_) | Message::Pong(_))))),
        "{more:?}"
    );

    // The listening connections are cut, as when Postgres restarts: the
    // listeners reconnect and the subscribers keep receiving.
    use sea_orm::ConnectionTrait;
    let db_name = a
        .database_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let killer =
        authgraph::db::connect_url(&crate::helpers::postgres_admin_url().unwrap(), 1, None)
            .await
            .unwrap();
    let killed = killer
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db_name}' AND query LIKE 'LISTEN%'"
            ),
        ))
        .await
        .unwrap();
    assert_eq!(killed.len(), 2, "one listener per instance");
    let mut delivered = false;
    for round in 0..20 {
        b.update_me(&token, json!({"data": {"round": round}})).await;
        if let Ok(Some(Ok(Message::Text(t)))) =
            tokio::time::timeout(Duration::from_millis(500), ws.next()).await
        {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["payload"]["data"]["userChanged"]["data"]["round"].is_number() {
                delivered = true;
                break;
            }
        }
    }
    assert!(
        delivered,
        "no event crossed instances after the listeners were cut"
    );
}

/// Identical secret-key subscriptions share one execution: the filter is
/// evaluated (one SQL statement) once per event, not once per subscriber, and
/// each subscriber still gets every event; one leaving does not end the others.
#[tokio::test]
async fn identical_secret_key_subscriptions_share_one_execution() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let counter = Arc::new(AtomicUsize::new(0));
    // Caches whose expiry could fall between the two counts are set aside:
    // the catalog outlives the test, the auth cache is off (one lookup per request).
    let app = TestApp::spawn_custom(Some(counter.clone()), |c| {
        c.catalog_ttl_ms = 60_000;
        c.auth_cache_ms = 0;
    })
    .await;
    let (token, _) = app.user("shared@example.com").await;
    let vars = json!({"w": {"field": "city", "value": "Oslo"}});
    let auth = json!({"x-api-key": app.sk});
    let mut first = subscribe(&app, auth.clone(), USERS_CHANGED, vars.clone()).await;

    // On Postgres an update's NOTIFY may run after its delivery: counts are
    // taken once no statement has run for a while.
    let settled = || async {
        let mut last = counter.load(Ordering::SeqCst);
        loop {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let now = counter.load(Ordering::SeqCst);
            if now == last {
                return now;
            }
            last = now;
        }
    };

    // Statements for one update delivered to one subscriber (after a warm-up).
    app.update_me(&token, json!({"data": {"city": "Oslo", "n": 0}}))
        .await;
    assert_eq!(next(&mut first).await["type"], "next");
    settled().await;
    counter.store(0, Ordering::SeqCst);
    app.update_me(&token, json!({"data": {"city": "Oslo", "n": 1}}))
        .await;
    assert_eq!(next(&mut first).await["type"], "next");
    let one = settled().await;

    let mut second = subscribe(&app, auth.clone(), USERS_CHANGED, vars.clone()).await;
    let mut third = subscribe(&app, auth.clone(), USERS_CHANGED, vars.clone()).await;
    settled().await;
    counter.store(0, Ordering::SeqCst);
    app.update_me(&token, json!({"data": {"city": "Oslo", "n": 2}}))
        .await;
    for ws in [&mut first, &mut second, &mut third] {
        let msg = next(ws).await;
        assert_eq!(
            msg["payload"]["data"]["usersChanged"]["user"]["data"]["n"], 2,
            "{msg}"
        );
    }
    let three = settled().await;
    assert_eq!(three, one, "statements for 1 vs 3 identical subscribers");

    // One leaves; the others go on receiving.
    drop(first);
    tokio::time::sleep(Duration::from_millis(100)).await;
    app.update_me(&token, json!({"data": {"city": "Oslo", "n": 3}}))
        .await;
    for ws in [&mut second, &mut third] {
        let msg = next(ws).await;
        assert_eq!(
            msg["payload"]["data"]["usersChanged"]["user"]["data"]["n"], 3,
            "{msg}"
        );
    }
}

/// The server pings; a quiet subscriber that answers pings (as WebSocket
/// libraries do by themselves) stays subscribed however long it sends nothing,
/// and one that answers nothing is closed after two intervals.
#[tokio::test]
async fn idle_subscribers_that_answer_pings_stay_and_silent_ones_are_closed() {
    let app = TestApp::spawn_custom(None, |c| c.ws_ping_secs = 1).await;
    let (token, _) = app.user("idle@example.com").await;
    let mut ws = subscribe(
        &app,
        json!({"authorization": format!("Bearer {token}")}),
        "subscription { userChanged { data } }",
        json!({}),
    )
    .await;
    // 3.5 s of silence from the client (it only reads, which answers pings).
    let until = tokio::time::Instant::now() + Duration::from_millis(3500);
    let mut pings = 0;
    while let Ok(frame) = tokio::time::timeout_at(until, ws.next()).await {
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            other => panic!("unexpected frame while idle: {other:?}"),
        }
    }
    assert!(pings >= 2, "{pings} pings in 3.5 s");
    app.update_me(&token, json!({"data": {"still": "here"}}))
        .await;
    let msg = next(&mut ws).await;
    assert_eq!(
        msg["payload"]["data"]["userChanged"]["data"]["still"], "here",
        "{msg}"
    );

    // A second subscriber that never reads, so never answers a ping.
    let _silent = subscribe(
        &app,
        json!({"authorization": format!("Bearer {token}")}),
        "subscription { userChanged { data } }",
        json!({}),
    )
    .await;
    assert_eq!(app.services.events.subscriber_count(), 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    loop {
        // Keep the first one answering.
        let _ = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
        if app.services.events.subscriber_count() == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the silent subscriber was not closed"
        );
    }
}

/// The close code of the next frame that ends the connection.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code.into()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

/// graphql-transport-ws's rules: no operation before the handshake, one
/// handshake, unique ids, well-formed messages, a handshake in time; a client's
/// `complete` stops that subscription only, and its id can be used again.
#[tokio::test]
async fn the_graphql_transport_ws_protocol_rules_are_enforced() {
    let app = TestApp::spawn_custom(None, |c| c.ws_ping_secs = 1).await;
    let (token, _) = app.user("rules@example.com").await;
    let auth = json!({"authorization": format!("Bearer {token}")});
    let sub = |id: &str| json!({"id": id, "type": "subscribe", "payload": {"query": "subscription { userChanged { data } }"}});

    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(&mut ws, sub("1")).await;
    assert_eq!(close_code(&mut ws).await, Some(4401));

    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    ws.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, Some(4400));

    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut ws).await, Some(4408));
    assert!(started.elapsed() < Duration::from_secs(3));

    let mut ws = connect(&app, "/graphql/ws", "graphql-transport-ws").await;
    send(&mut ws, json!({"type": "connection_init", "payload": auth})).await;
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    send(&mut ws, json!({"type": "connection_init", "payload": auth})).await;
    assert_eq!(close_code(&mut ws).await, Some(4429));

    let mut ws = subscribe(
        &app,
        auth.clone(),
        "subscription { userChanged { data } }",
        json!({}),
    )
    .await;
    send(&mut ws, sub("1")).await;
    assert_eq!(close_code(&mut ws).await, Some(4409));

    // complete ends one subscription; the other goes on; the id is free again.
    let mut ws = subscribe(
        &app,
        auth.clone(),
        "subscription { userChanged { data } }",
        json!({}),
    )
    .await;
    send(&mut ws, sub("2")).await;
    app.await_subscribers(2).await;
    send(&mut ws, json!({"id": "1", "type": "complete"})).await;
    for _ in 0..100 {
        if app.services.events.subscriber_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.services.events.subscriber_count(), 1);
    app.update_me(&token, json!({"data": {"n": 1}})).await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["id"], "2", "{msg}");
    assert_eq!(msg["payload"]["data"]["userChanged"]["data"]["n"], 1);
    send(&mut ws, sub("1")).await;
    app.await_subscribers(2).await;
    app.update_me(&token, json!({"data": {"n": 2}})).await;
    let mut ids = vec![
        next(&mut ws).await["id"].as_str().unwrap().to_owned(),
        next(&mut ws).await["id"].as_str().unwrap().to_owned(),
    ];
    ids.sort();
    assert_eq!(ids, ["1", "2"]);

    // A protocol-level ping gets a pong; a query over the socket gets one
    // answer and a complete.
    send(&mut ws, json!({"type": "ping"})).await;
    let pong = loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap();
        if let Some(Ok(Message::Text(t))) = frame {
            break serde_json::from_str::<Value>(&t).unwrap();
        }
    };
    assert_eq!(pong["type"], "pong");
    send(
        &mut ws,
        json!({"id": "q", "type": "subscribe", "payload": {"query": "{ me { email } }"}}),
    )
    .await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["id"], "q");
    assert_eq!(
        answer["payload"]["data"]["me"]["email"],
        "rules@example.com"
    );
    let done = next(&mut ws).await;
    assert_eq!(done, json!({"id": "q", "type": "complete"}));
}
