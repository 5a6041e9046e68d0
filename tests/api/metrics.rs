//! Prometheus metrics: off by default, behind a token when configured, on a
//! listener of their own, and counters that move with requests. (The
//! exposition is also parsed by the Python `prometheus_client` parser in
//! `clients/metrics_suite.py`.)
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;

use crate::helpers::{ReplyExt, TestApp, error_code};

const TOKEN: &str = "metrics-token-0123456789";

async fn spawn_with_metrics() -> TestApp {
    TestApp::spawn_custom(None, |c| {
        c.metrics = true;
        c.metrics_token = TOKEN.into();
    })
    .await
}

/// One scrape as `series -> value`, where a series is `name{labels}` as
/// written. Every sample line must be `series value`, every value a number.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        assert!(
            series.starts_with("authgraph_"),
            "unprefixed series: {line}"
        );
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "repeated: {line}"
        );
    }
    samples
}

impl TestApp {
    async fn scrape(&self) -> HashMap<String, f64> {
        let res = self
            .rest(reqwest::Method::GET, "/metrics")
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        parse(&res.text().await.unwrap())
    }
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_are_off_unless_enabled_and_answer_like_any_unknown_path() {
    let app = TestApp::spawn().await;
    let metrics = app.rest(reqwest::Method::GET, "/metrics").reply().await;
    let unknown = app
        .rest(reqwest::Method::GET, "/no-such-page")
        .reply()
        .await;
    assert_eq!(metrics.status, 404);
    assert_eq!(
        (metrics.status, &metrics.body),
        (unknown.status, &unknown.body)
    );
}

#[tokio::test]
async fn the_metrics_token_is_required_when_configured() {
    let app = spawn_with_metrics().await;
    // No header, a wrong token, the right token without its scheme.
    for auth in [None, Some("Bearer wrong-token-wrong-token"), Some(TOKEN)] {
        let mut req = app.rest(reqwest::Method::GET, "/metrics");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let reply = req.reply().await;
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(reply.body["code"], "UNAUTHENTICATED");
        assert_eq!(reply.headers["www-authenticate"], "Bearer");
    }
    let ok = app
        .rest(reqwest::Method::GET, "/metrics")
        .bearer_auth(TOKEN)
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(ok.text().await.unwrap().ends_with("# EOF\n"));
}

#[tokio::test]
async fn counters_move_with_requests_and_routes_are_templates() {
    let app = spawn_with_metrics().await;
    app.user("counted@example.com").await;
    let failures = r#"authgraph_auth_attempts_total{method="password",outcome="failure"}"#;
    let successes = r#"authgraph_auth_attempts_total{method="password",outcome="success"}"#;
    let graphql = r#"authgraph_http_request_duration_seconds_count{door="graphql",route="/graphql",method="POST",status="200"}"#;
    let before = app.scrape().await;
    let res = app.log_in("counted@example.com", "a wrong password").await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"));
    let after = app.scrape().await;
    assert_eq!(value(&after, failures) - value(&before, failures), 1.0);
    assert_eq!(value(&after, successes), value(&before, successes));
    assert_eq!(value(&after, graphql) - value(&before, graphql), 1.0);
    let res = app
        .log_in("counted@example.com", "correct horse battery")
        .await;
    assert!(res["errors"].is_null(), "{res}");
    let later = app.scrape().await;
    assert_eq!(value(&later, successes) - value(&after, successes), 1.0);
    // A path with an id is counted under its route's template.
    let record = app
        .rest(
            reqwest::Method::GET,
            "/api/collections/users/records/no-such-id",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(record.status(), 404);
    let samples = app.scrape().await;
    let templated = r#"authgraph_http_requests_total{door="pocketbase",route="/api/collections/{collection}/records/{id}",method="GET",status="404"}"#;
    assert_eq!(value(&samples, templated), 1.0, "{:?}", samples.keys());
    assert!(
        samples
            .keys()
            .all(|k| !k.contains("no-such-id") && !k.contains("counted@"))
    );
    // The sampled gauges are there.
    assert!(value(&samples, "authgraph_db_pool_max_connections") >= 1.0);
    assert!(samples.contains_key("authgraph_password_hash_queue_depth"));
    assert!(samples.contains_key("authgraph_mail_outbox_pending"));
}

/// No account enumeration by timing: a failed log-in costs one argon2id
/// verification whether the email exists or not (unknown emails are checked
/// against a dummy hash). Counted by the hashing workers, not timed, so load
/// from tests running alongside cannot make it fail or pass.
#[tokio::test]
async fn unknown_emails_cost_one_password_verification_like_known_ones() {
    let app = spawn_with_metrics().await;
    app.user("dave@example.com").await;
    let hashed = "authgraph_password_hash_duration_seconds_count";
    let mut counts = Vec::new();
    for email in ["dave@example.com", "nobody@example.com", "DAVE@example.com"] {
        let before = value(&app.scrape().await, hashed);
        let res = app.log_in(email, "not the password").await;
        assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{email}");
        counts.push(value(&app.scrape().await, hashed) - before);
    }
    assert_eq!(counts, [1.0, 1.0, 1.0]);
}

#[tokio::test]
async fn realtime_streams_and_their_subscriptions_are_gauged() {
    let app = spawn_with_metrics().await;
    let connections = r#"authgraph_realtime_connections{door="pocketbase"}"#;
    let topics = r#"authgraph_realtime_subscriptions{door="pocketbase"}"#;
    let res = app
        .rest(reqwest::Method::GET, "/api/realtime")
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    let mut head = String::new();
    while !head.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), body.next()).await;
        head.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap().unwrap()));
    }
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .unwrap()
        .trim()
        .to_owned();
    let set = app
        .rest(reqwest::Method::POST, "/api/realtime")
        .json(&json!({"clientId": id, "subscriptions": ["users/*", "users/abc"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    let open = app.scrape().await;
    assert_eq!(
        (value(&open, connections), value(&open, topics)),
        (1.0, 2.0)
    );
    drop(body);
    // The server notices the closed stream at its next write: wait for it.
    app.until(&[(connections, 0.0), (topics, 0.0)]).await;
}

impl TestApp {
    /// Scrapes until every series has its value (10 s at most).
    async fn until(&self, expected: &[(&str, f64)]) {
        let mut now = HashMap::new();
        for _ in 0..200 {
            now = self.scrape().await;
            if expected.iter().all(|(series, v)| value(&now, series) == *v) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen: Vec<f64> = expected.iter().map(|(s, _)| value(&now, s)).collect();
        panic!("expected {expected:?}, still {seen:?}");
    }
}

#[tokio::test]
async fn graphql_websockets_and_their_subscriptions_are_gauged() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let app = spawn_with_metrics().await;
    let connections = r#"authgraph_realtime_connections{door="graphql"}"#;
    let subscriptions = r#"authgraph_realtime_subscriptions{door="graphql"}"#;
    let auth = json!({"x-api-key": app.sk});
    let query = "subscription { usersChanged { kind } }";
    let mut ws = crate::subscriptions::subscribe(&app, auth, query, json!({})).await;
    app.until(&[(connections, 1.0), (subscriptions, 1.0)]).await;
    let complete = json!({"id": "1", "type": "complete"}).to_string();
    ws.send(Message::Text(complete.into())).await.unwrap();
    app.until(&[(connections, 1.0), (subscriptions, 0.0)]).await;
    ws.close(None).await.unwrap();
    app.until(&[(connections, 0.0), (subscriptions, 0.0)]).await;
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    let app = TestApp::spawn_custom(None, |c| {
        c.metrics = true;
        c.metrics_addr = "127.0.0.1:0".into();
    })
    .await;
    // Not on the main listener.
    let main = app
        .rest(reqwest::Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let config = authgraph::config::Config {
        metrics: true,
        ..authgraph::config::Config::default()
    };
    let router = authgraph::app::metrics_router(app.services.clone(), Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    app.log_in("nobody@example.com", "whatever password").await;
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = parse(&text);
    let failures = r#"authgraph_auth_attempts_total{method="password",outcome="failure"}"#;
    assert_eq!(value(&samples, failures), 1.0, "{text}");
}

#[tokio::test]
async fn the_mail_outbox_backlog_is_gauged_while_smtp_is_down() {
    let app = TestApp::spawn_custom(None, |c| {
        c.metrics = true;
        c.metrics_token = TOKEN.into();
        c.smtp_url = crate::helpers::RECORD_MAIL.into();
        c.mail_retry_max_secs = 1;
    })
    .await;
    app.user("ann@example.com").await;
    app.services.mailer.set_down(true);
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation($e: String!) { requestPasswordReset(email: $e) }",
            json!({"e": "ann@example.com"}),
        )
        .await;
    assert_eq!(res["data"]["requestPasswordReset"], true, "{res}");
    // The mail is enqueued by a background task; wait until it is counted.
    let mut pending = 0.0;
    for _ in 0..200 {
        pending = value(&app.scrape().await, "authgraph_mail_outbox_pending");
        if pending >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 1.0);
    app.services.mailer.set_down(false);
    for _ in 0..400 {
        if value(&app.scrape().await, "authgraph_mail_outbox_pending") == 0.0 {
            assert_eq!(app.outbox.lock().unwrap().len(), 1);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the backlog never went back to 0");
}
