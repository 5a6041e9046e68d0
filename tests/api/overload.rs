//! Admission control of the password hasher: past `hash_queue_max` waiting
//! jobs a sign-up or log-in is refused at once with the busy answer (503
//! `OVERLOADED` with `Retry-After`) in its door's shape, before any hashing;
//! it changes nothing (no user, no lockout count, no audit event), and once
//! the queue drains the same requests are admitted again.
use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::audit::events;
use crate::helpers::{Reply, ReplyExt, TestApp, error_code, keys};

const PW: &str = "correct horse battery";
const KNOWN: &str = "known@example.com";
const NEW: &str = "new@example.com";
/// An argon2id hash whose check keeps a worker busy for seconds (150 passes
/// over 19 MiB; a log-in's is 2): it holds the only worker while the test
/// runs against a full queue. Its output matches no password.
const SLOW: &str = "$argon2id$v=19$m=19456,t=150,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// One hashing worker, room for one job waiting, and a lockout at the
/// first failed log-in (so a refusal counted as one would show).
async fn spawn() -> TestApp {
    TestApp::spawn_custom(None, |c| {
        c.hash_concurrency = 1;
        c.hash_queue_max = 1;
        c.lockout_failures = 1;
    })
    .await
}

/// The value of an unlabelled series of the server's metrics.
fn metric(app: &TestApp, series: &str) -> f64 {
    let text = app.services.metrics.render(Default::default(), false);
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn until_metric(app: &TestApp, series: &str, value: f64) {
    for _ in 0..2000 {
        if metric(app, series) == value {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("{series} never reached {value}");
}

type Check = JoinHandle<authgraph::error::AppResult<bool>>;

/// Fills the queue: the slow check on the worker, an unknown user's check
/// waiting behind it. Both end once the queue drains.
async fn fill(app: &TestApp) -> (Check, Check) {
    let started = "authgraph_password_hash_queue_wait_seconds_count";
    let before = metric(app, started);
    let passwords = app.services.passwords.clone();
    let running = tokio::spawn(async move { passwords.verify(PW, Some(SLOW)).await });
    // The worker took it: its wait was observed.
    until_metric(app, started, before + 1.0).await;
    let passwords = app.services.passwords.clone();
    let waiting = tokio::spawn(async move { passwords.verify(PW, None).await });
    until_metric(app, "authgraph_password_hash_queue_depth", 1.0).await;
    (running, waiting)
}

fn assert_busy_rest(what: &str, res: &Reply) {
    assert_eq!(res.status, 503, "{what}: {}", res.body);
    assert_eq!(res.headers["retry-after"], "1", "{what}");
    let ct = res.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("application/json"), "{what}: {ct}");
}

fn assert_busy_graphql(what: &str, res: &Value) {
    assert_eq!(error_code(res), Some("OVERLOADED"), "{what}: {res}");
    assert_eq!(res["errors"][0]["extensions"]["retryAfter"], 1, "{what}");
    assert!(res["data"].is_null(), "{what}: {res}");
}

async fn post(app: &TestApp, path: &str, key: bool, body: Value) -> Reply {
    let req = app.rest(Method::POST, path).json(&body);
    let req = if key {
        req.header("x-api-key", &app.pk)
    } else {
        req
    };
    req.reply().await
}

#[tokio::test]
async fn past_the_hash_queue_bound_sign_ups_and_log_ins_are_refused_busy_in_each_doors_shape_and_change_nothing()
 {
    let app = spawn().await;
    app.user(KNOWN).await;
    let (running, waiting) = fill(&app).await;

    // GraphQL: the code and the pause in `extensions`; an unknown email's
    // log-in is refused exactly like a known one's.
    let signed_up = app.sign_up(NEW, PW, json!({})).await;
    assert_busy_graphql("signUp", &signed_up);
    for email in [KNOWN, "nobody@example.com"] {
        assert_busy_graphql(email, &app.log_in(email, PW).await);
    }

    let credentials = json!({"email": NEW, "password": PW});
    let known = json!({"email": KNOWN, "password": PW});
    // Cocobase: FastAPI's `{"detail": string}`, and `/auth/register`'s envelope.
    for (path, body) in [
        ("/auth-collections/signup", &credentials),
        ("/auth-collections/login", &known),
    ] {
        let res = post(&app, path, true, body.clone()).await;
        assert_busy_rest(path, &res);
        assert!(res.body["detail"].is_string(), "{path}: {}", res.body);
        assert_eq!(keys(&res.body), ["detail"]);
    }
    let res = app
        .rest(Method::POST, "/auth/register")
        .bearer_auth(&app.pk)
        .json(&credentials)
        .reply()
        .await;
    assert_busy_rest("/auth/register", &res);
    assert_eq!(res.body["success"], false);
    assert_eq!(res.body["error"]["code"], "OVERLOADED", "{}", res.body);

    // PocketBase: `{status, message, data}`.
    let confirmed = json!({"email": NEW, "password": PW, "passwordConfirm": PW});
    let users = "/api/collections/users";
    let identity = json!({"identity": KNOWN, "password": PW});
    for (path, body) in [
        (format!("{users}/records"), confirmed),
        (format!("{users}/auth-with-password"), identity),
    ] {
        let res = post(&app, &path, false, body).await;
        assert_busy_rest(&path, &res);
        assert_eq!(keys(&res.body), ["data", "message", "status"], "{path}");
        assert_eq!(res.body["status"], 503, "{path}");
        assert_eq!(res.body["data"], json!({}), "{path}");
    }

    // urBackend: `{success: false, error, code}`.
    for (path, body) in [
        ("/api/userAuth/signup", &credentials),
        ("/api/userAuth/login", &known),
    ] {
        let res = post(&app, path, true, body.clone()).await;
        assert_busy_rest(path, &res);
        assert_eq!(keys(&res.body), ["code", "error", "success"], "{path}");
        assert_eq!(res.body["success"], false, "{path}");
        assert_eq!(res.body["code"], 503, "{path}");
    }

    // Every refusal above came while the queue was still full, and each was
    // counted; none of them was hashed.
    assert!(!waiting.is_finished(), "the queue drained during the test");
    assert_eq!(metric(&app, "authgraph_password_hash_refused_total"), 10.0);
    assert!(!running.await.unwrap().unwrap());
    assert!(!waiting.await.unwrap().unwrap());
    until_metric(&app, "authgraph_password_hash_queue_depth", 0.0).await;

    // Drained: admitted again. No refused log-in counted towards the lockout
    // (one failure would lock this account), none was audited, and no
    // refused sign-up created the account.
    let logged_in = app.log_in(KNOWN, PW).await;
    assert!(
        logged_in["data"]["logIn"]["token"].is_string(),
        "{logged_in}"
    );
    let log_ins = events(&app, json!({"kind": ["log_in"]})).await;
    let outcomes: Vec<&str> = log_ins
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["success"], "{log_ins:#?}");
    let signed_up = app.sign_up(NEW, PW, json!({})).await;
    assert!(
        signed_up["data"]["signUp"]["token"].is_string(),
        "{signed_up}"
    );
    assert_eq!(metric(&app, "authgraph_password_hash_refused_total"), 10.0);
}
