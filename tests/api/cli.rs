//! The `authgraph` binary itself: serve, project, apply, superuser, config errors.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::test_config;

fn bin(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_authgraph"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AUTHGRAPH_DATA_DIR", dir)
        .env("AUTHGRAPH_ADDR", "127.0.0.1:0")
        .env("AUTHGRAPH_HASH_CONCURRENCY", "2")
        .env("RUST_LOG", "warn")
        .current_dir(dir);
    if !database_url.is_empty() {
        cmd.env("DATABASE_URL", database_url);
    }
    cmd
}

pub(crate) struct Server {
    pub(crate) child: Child,
    lines: Vec<String>,
    pub(crate) base: String,
}

/// A failing test must not leave its servers running (they hold the test's
/// stdout open, and a CI log reader would wait for them).
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `authgraph serve` and reads its stdout until it listens.
async fn start(dir: &std::path::Path, database_url: &str) -> Server {
    start_with(dir, database_url, &[]).await
}

/// `start` with more environment variables.
pub(crate) async fn start_with(
    dir: &std::path::Path,
    database_url: &str,
    env: &[(&str, &str)],
) -> Server {
    let mut child = bin(dir, database_url)
        .envs(env.iter().copied())
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, base) = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix("authgraph listening on ") {
                return (lines, url.to_owned());
            }
            lines.push(line);
        }
        panic!("server exited before listening: {lines:?}");
    })
    .await
    .unwrap();
    Server { child, lines, base }
}

impl Server {
    pub(crate) fn key(&self, label: &str) -> Option<String> {
        self.lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|k| k.trim().to_owned()))
    }

    async fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child.kill().ok();
        panic!("server did not stop on SIGTERM");
    }
}

/// `authgraph project rotate-keys SLUG --json`; returns the new publishable key.
fn rotate_keys(dir: &std::path::Path, database_url: &str, slug: &str) -> String {
    let rot = bin(dir, database_url)
        .args(["project", "rotate-keys", slug, "--json"])
        .output()
        .unwrap();
    assert!(
        rot.status.success(),
        "{}",
        String::from_utf8_lossy(&rot.stderr)
    );
    serde_json::from_slice::<Value>(&rot.stdout).unwrap()["publishable_key"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn gql(base: &str, key: Option<&str>, token: Option<&str>, query: &str) -> Value {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .json(&json!({"query": query}));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn serve_prints_default_keys_once_keeps_tokens_across_restarts_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let first = start(dir.path(), &db).await;
    let pk = first
        .key("publishable key:")
        .expect("publishable key printed on first start");
    assert!(pk.starts_with("pk_live_"));
    assert!(first.key("secret key:").unwrap().starts_with("sk_live_"));
    let res = gql(
        &first.base,
        Some(&pk),
        None,
        "mutation { signUp(input: {email: \"cli@example.com\", password: \"correct horse battery\"}) { token } }",
    )
    .await;
    let token = res["data"]["signUp"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(first.stop().await.success(), "graceful shutdown exits 0");

    let second = start(dir.path(), &db).await;
    assert!(
        second.key("publishable key:").is_none(),
        "keys are printed only on the first start"
    );
    // The generated signing key persisted, so the token still works.
    let me = gql(&second.base, None, Some(&token), "{ me { email } }").await;
    assert_eq!(me["data"]["me"]["email"], "cli@example.com", "{me}");
    assert!(second.stop().await.success());
}

#[tokio::test]
async fn project_create_prints_json_keys_that_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let out = bin(dir.path(), &db)
        .args(["project", "create", "My Shop", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"]["slug"], "my-shop");
    assert_eq!(v["project"]["name"], "My Shop");
    let pk = v["publishable_key"].as_str().unwrap().to_owned();
    assert!(pk.starts_with("pk_live_"));
    assert!(v["secret_key"].as_str().unwrap().starts_with("sk_live_"));
    assert!(v["project"].get("publishable_key_hash").is_none());

    // The same name again is a conflict with a clear message.
    let dup = bin(dir.path(), &db)
        .args(["project", "create", "My Shop", "--json"])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("CONFLICT"));

    // Rotating the keys: the old publishable key stops working, the new one works.
    let new_pk = rotate_keys(dir.path(), &db, "my-shop");
    let server = start(dir.path(), &db).await;
    let q = "mutation { signUp(input: {email: \"shop@example.com\", password: \"correct horse battery\"}) { token } }";
    let old = gql(&server.base, Some(&pk), None, q).await;
    assert_eq!(old["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let new = gql(&server.base, Some(&new_pk), None, q).await;
    assert!(new["data"]["signUp"]["token"].is_string(), "{new}");
    server.stop().await;
}

#[tokio::test]
async fn apply_and_superuser_commands_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let file = dir.path().join("project.toml");
    std::fs::write(
        &file,
        "[project]\nslug = \"blog\"\nname = \"Blog\"\n\n[[collections]]\nname = \"members\"\n\n[[collections.fields]]\nname = \"username\"\ntype = \"text\"\nunique = true\n",
    )
    .unwrap();
    let out = bin(dir.path(), &db)
        .arg("apply")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created_collections"], json!(["members"]));
    assert!(
        report["created_project"]["secret_key"]
            .as_str()
            .unwrap()
            .starts_with("sk_live_")
    );
    let again: Value = serde_json::from_slice(
        &bin(dir.path(), &db)
            .arg("apply")
            .arg(&file)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(again["unchanged_collections"], json!(["members"]));
    assert!(again["created_project"].is_null());

    std::fs::write(
        &file,
        "[project]\nslug = \"blog\"\n[[collections]]\nname = \"members\"\nbogus = 1\n",
    )
    .unwrap();
    let bad = bin(dir.path(), &db)
        .arg("apply")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bogus"));

    let up = |pw: &str| {
        bin(dir.path(), &db)
            .args(["superuser", "upsert", "admin@example.com", pw])
            .output()
            .unwrap()
    };
    let created = up("a long admin password");
    assert!(String::from_utf8_lossy(&created.stdout).contains("created"));
    let updated = up("another admin password");
    assert!(String::from_utf8_lossy(&updated.stdout).contains("updated"));
    let weak = up("short");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("WEAK_PASSWORD"));
}

#[tokio::test]
async fn configuration_errors_name_the_setting_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin(dir.path(), "")
        .env("AUTHGRAPH_ADDR", "not-an-address")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTHGRAPH_ADDR"));
    let out = bin(dir.path(), "mysql://x")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
    let out = bin(dir.path(), "")
        .env("AUTHGRAPH_JWT_SECRET", "short")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTHGRAPH_JWT_SECRET"));
    // A TOML file is read, and the environment overrides it.
    std::fs::write(
        dir.path().join("authgraph.toml"),
        "addr = \"also not an address\"\n",
    )
    .unwrap();
    let out = bin(dir.path(), "")
        .env_remove("AUTHGRAPH_ADDR")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("also not an address"));
    let out = bin(dir.path(), "").arg("migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two `authgraph serve` processes on one Postgres database: a subscriber on
/// the first receives a change made through the second. (On SQLite each
/// database file has one server, so this runs in the Postgres pass.)
#[tokio::test]
async fn two_server_processes_on_one_postgres_share_events_and_tokens() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let db = test_config(dir_a.path()).await.database_url;
    let a = start(dir_a.path(), &db).await;
    let b = start(dir_b.path(), &db).await;
    let pk = a
        .key("publishable key:")
        .expect("keys from the first process");
    let res = gql(
        &b.base,
        Some(&pk),
        None,
        "mutation { signUp(input: {email: \"procs@example.com\", password: \"correct horse battery\"}) { token } }",
    )
    .await;
    let token = res["data"]["signUp"]["token"]
        .as_str()
        .expect("token from the second process")
        .to_owned();
    let mut req = format!("{}/graphql/ws", a.base.replace("http", "ws"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}}),
    ))
    .await
    .unwrap();
    ws.send(send(json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { userChanged { data } }"}}))).await.unwrap();
    // The subscription goes live at some point after `subscribe`; changes on
    // the other process are repeated until one arrives, then checked.
    let mut got = None;
    'rounds: for round in 0..20 {
        let q = format!(
            "mutation {{ updateMe(input: {{data: {{from: \"b\", round: {round}}}}}) {{ id }} }}"
        );
        gql(&b.base, None, Some(&token), &q).await;
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(500), ws.next()).await
        {
            if let Message::Text(t) = msg {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] == "next" {
                    got = Some(v);
                    break 'rounds;
                }
            }
        }
    }
    let got = got.expect("an event from the other process");
    assert_eq!(
        got["payload"]["data"]["userChanged"]["data"]["from"], "b",
        "{got}"
    );
    assert!(a.stop().await.success());
    assert!(b.stop().await.success());
}

/// Keys are cached by a running server for `catalog_ttl_ms` (2 s by default):
/// `project rotate-keys` in another process reaches it within that bound.
#[tokio::test]
async fn keys_rotated_by_the_cli_stop_working_on_a_running_server_within_the_catalog_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).await.database_url;
    let server = start(dir.path(), &db).await;
    let pk = server.key("publishable key:").expect("keys on first start");
    let sign_up = |n: u32| {
        format!(
            "mutation {{ signUp(input: {{email: \"rot{n}@example.com\", password: \"correct horse battery\"}}) {{ user {{ email }} }} }}"
        )
    };
    // The key works and is now cached.
    let ok = gql(&server.base, Some(&pk), None, &sign_up(0)).await;
    assert_eq!(
        ok["data"]["signUp"]["user"]["email"], "rot0@example.com",
        "{ok}"
    );

    let new_pk = rotate_keys(dir.path(), &db, "default");
    let rotated_at = std::time::Instant::now();
    // A new key is never a cached miss: it works at once.
    let new = gql(&server.base, Some(&new_pk), None, &sign_up(1)).await;
    assert_eq!(
        new["data"]["signUp"]["user"]["email"], "rot1@example.com",
        "{new}"
    );
    // The old one is refused within the TTL (2 s), polled every 100 ms.
    // The cached entry was loaded before the rotation, so an old-key request
    // that still succeeds must have been sent less than the TTL after it.
    loop {
        let sent = rotated_at.elapsed();
        // A cheap operation (no sign-up: those are rate-limited per address).
        let old = gql(&server.base, Some(&pk), None, "{ __typename }").await;
        if old["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" {
            break;
        }
        assert_eq!(old["data"]["__typename"], "Query", "{old}");
        assert!(
            sent < Duration::from_millis(2000),
            "the old key still worked when sent {sent:?} after rotation"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.stop().await.success());
}
