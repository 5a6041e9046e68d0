use std::net::SocketAddr;
use std::sync::Arc;

use authgraph::config::Config;
use authgraph::domain::Services;
use authgraph::{app, db};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// A running server with a fresh database and the default project's keys.
pub struct TestApp {
    /// The database this server uses (another instance may share it).
    pub database_url: String,
    pub addr: SocketAddr,
    pub base: String,
    pub pk: String,
    pub sk: String,
    pub services: Services,
    pub http: reqwest::Client,
    /// Mail the server sent, for a server spawned with `RECORD_MAIL`.
    pub outbox: Arc<std::sync::Mutex<Vec<authgraph::mail::Mail>>>,
    /// This instance's mail-outbox worker (as `serve` starts it).
    pub mail_worker: authgraph::domain::outbox::worker::Worker,
    _dir: tempfile::TempDir,
}

/// An `smtp_url` that makes `spawn_custom` give the server a recording mailer
/// (in `TestApp::outbox`) instead of an SMTP server.
pub const RECORD_MAIL: &str = "record:";

/// Waits for the `n`th mail a `RECORD_MAIL` server sent (sending runs in
/// the background).
pub async fn mail(app: &TestApp, n: usize) -> authgraph::mail::Mail {
    for _ in 0..200 {
        if let Some(m) = app.outbox.lock().unwrap().get(n - 1) {
            return m.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("mail {n} was not sent");
}

/// The Postgres server URL for tests, when set.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("AUTHGRAPH_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// Creates a new empty Postgres database and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> String {
    let name = format!(
        "ag_t_{}",
        authgraph::auth::keys::random_token(12).to_lowercase()
    );
    let admin = db::connect_url(admin_url, 1, None)
        .await
        .expect("connect to AUTHGRAPH_TEST_DATABASE_URL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    format!("{prefix}/{name}{query}")
}

/// A config for a test: a temp data dir, a fresh database, a fixed secret.
pub async fn test_config(dir: &std::path::Path) -> Config {
    let database_url = match postgres_admin_url() {
        Some(admin) => fresh_postgres(&admin).await,
        None => String::new(),
    };
    Config {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url,
        db_max_connections: 5,
        jwt_secret: "test-secret-test-secret-test-secret-0123".into(),
        hash_concurrency: 4,
        max_body_bytes: 256 * 1024,
        graphiql: true,
        refresh_grace_secs: 2,
        secure_cookies: "auto".into(),
        max_ws_connections: 1000,
        log_format: "text".into(),
        catalog_ttl_ms: 2000,
        auth_cache_ms: 1000,
        ws_ping_secs: 30,
        // Tests sign up and log in from one address far more often than the
        // defaults allow; tests/api/limits.rs sets limits of its own.
        login_limit_per_ip: 0,
        signup_limit_per_ip: 0,
        refresh_limit_per_ip: 0,
        password_change_limit_per_ip: 0,
        mail_code_limit_per_ip: 0,
        mfa_limit_per_ip: 0,
        rate_limit_window_secs: 3600,
        lockout_failures: 0,
        lockout_secs: 900,
        trusted_proxies: String::new(),
        smtp_url: Default::default(),
        mail_from: "authgraph <no-reply@localhost>".into(),
        public_url: String::new(),
        ..test_storage()
    }
}

/// Files go to `<data_dir>/files` (the default), or to the S3 server that
/// `AUTHGRAPH_TEST_S3_ENDPOINT` names (`.ci/run` starts moto), each test
/// under a bucket of its own.
fn test_storage() -> Config {
    let Some(endpoint) = std::env::var("AUTHGRAPH_TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        return Config::default();
    };
    Config {
        storage: "s3".into(),
        s3_bucket: std::env::var("AUTHGRAPH_TEST_S3_BUCKET")
            .unwrap_or_else(|_| "authgraph-test".into()),
        s3_region: "us-east-1".into(),
        s3_endpoint: endpoint,
        s3_access_key_id: "testing".into(),
        s3_secret_access_key: "testing".into(),
        s3_path_style: true,
        ..Config::default()
    }
}

impl TestApp {
    /// Waits until this instance has at least `n` live subscriptions, so an
    /// event published next reaches them.
    pub async fn await_subscribers(&self, n: usize) {
        for _ in 0..1000 {
            if self.services.events.subscriber_count() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!(
            "{} live subscriptions after 10 s, expected {n}",
            self.services.events.subscriber_count()
        );
    }

    /// Waits until the mail outbox holds nothing pending (the worker
    /// delivers in the background).
    pub async fn mail_delivered(&self) {
        for _ in 0..1000 {
            let backlog = authgraph::domain::outbox::backlog(&self.services).await;
            if backlog.is_ok_and(|b| b.pending == 0) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("mail still pending after 10 s");
    }

    /// Two instances on one fresh Postgres database, with the signing key
    /// from that database (no configured secret), as a scaled-out deployment.
    pub async fn spawn_pair() -> (TestApp, TestApp) {
        let a = Self::spawn_custom(None, |c| c.jwt_secret.clear()).await;
        let url = a.database_url.clone();
        let b = Self::spawn_custom(None, move |c| {
            c.jwt_secret.clear();
            c.database_url = url;
        })
        .await;
        (a, b)
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_counting(None).await
    }

    /// Like `spawn`, counting every SQL statement the server runs in `counter`.
    pub async fn spawn_counting(counter: Option<Arc<std::sync::atomic::AtomicUsize>>) -> TestApp {
        Self::spawn_custom(counter, |_| {}).await
    }

    /// A server with the recording mailer (`RECORD_MAIL`), whose config
    /// `edit` then adjusts (limits, retries, another instance's database).
    pub async fn spawn_mailing(edit: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_custom(None, |c| {
            c.smtp_url = RECORD_MAIL.into();
            edit(c);
        })
        .await
    }

    /// A server whose config `edit` adjusts (e.g. another instance on the same database).
    pub async fn spawn_custom(
        counter: Option<Arc<std::sync::atomic::AtomicUsize>>,
        edit: impl FnOnce(&mut Config),
    ) -> TestApp {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path()).await;
        edit(&mut config);
        let record_mail = config.smtp_url == RECORD_MAIL;
        if record_mail {
            config.smtp_url.clear();
        }
        let mut conn = db::connect(&config).await.expect("database");
        db::migrate(&conn).await.expect("migrations");
        if let Some(counter) = counter {
            conn.set_metric_callback(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        let mut services = app::services_with_db(&config, conn)
            .await
            .expect("services");
        let (recording, outbox) = authgraph::mail::Mailer::recording();
        if record_mail {
            services.mailer = recording;
        }
        if postgres_admin_url().is_some() {
            services
                .events
                .start_postgres_fanout(services.db.clone(), &config.database_url())
                .await
                .expect("event fan-out");
        }
        // A second instance on an existing database gets no keys printed; its
        // caller takes them from the first.
        let created = app::first_start(&services).await.unwrap();
        let (pk, sk) = created
            .map(|c| (c.publishable_key, c.secret_key))
            .unwrap_or_default();
        let database_url = config.database_url();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mail_worker = authgraph::domain::outbox::worker::start(&services);
        let router = app::router(services.clone(), Arc::new(config));
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        TestApp {
            addr,
            base: format!("http://{addr}"),
            pk,
            sk,
            database_url,
            services,
            outbox,
            mail_worker,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// POSTs a GraphQL operation with optional `x-api-key` and bearer token.
    pub async fn gql(
        &self,
        key: Option<&str>,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(k) = key {
            req = req.header("x-api-key", k);
        }
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_success(), "status {}", res.status());
        res.json().await.unwrap()
    }

    /// The `default` project, as the domain sees it.
    pub async fn default_project(&self) -> authgraph::domain::projects::Project {
        self.services
            .catalog
            .project_by_slug(&self.services.db, "default")
            .await
            .unwrap()
    }

    pub async fn sign_up(&self, email: &str, password: &str, data: Value) -> Value {
        self.gql(
            Some(&self.pk),
            None,
            "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id email data roles verified createdAt updatedAt } } }",
            json!({"i": {"email": email, "password": password, "data": data}}),
        )
        .await
    }

    /// Signs up and returns (token, user id).
    pub async fn user(&self, email: &str) -> (String, String) {
        let res = self
            .sign_up(email, "correct horse battery", json!({}))
            .await;
        let payload = &res["data"]["signUp"];
        assert!(payload.is_object(), "sign-up failed: {res}");
        (
            payload["token"].as_str().unwrap().to_owned(),
            payload["user"]["id"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Value {
        self.gql(
            Some(&self.pk),
            None,
            "mutation($i: LogInInput!) { logIn(input: $i) { token user { id email } } }",
            json!({"i": {"email": email, "password": password}}),
        )
        .await
    }

    pub async fn me(&self, token: &str) -> Value {
        self.gql(
            None,
            Some(token),
            "{ me { id email data roles verified } }",
            json!({}),
        )
        .await
    }

    pub async fn update_me(&self, token: &str, input: Value) -> Value {
        self.gql(
            None,
            Some(token),
            "mutation($i: UpdateMeInput!) { updateMe(input: $i) { id data } }",
            json!({"i": input}),
        )
        .await
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(res: &Value) -> Option<&str> {
    res["errors"][0]["extensions"]["code"].as_str()
}

/// A REST reply: status, headers and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// Sends a request and reads the reply. A non-empty body must be JSON and
/// labelled `application/json` (every SDK parses replies by that label).
pub trait ReplyExt {
    fn reply(self) -> impl std::future::Future<Output = Reply> + Send;
}

impl ReplyExt for reqwest::RequestBuilder {
    async fn reply(self) -> Reply {
        let res = self.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            let ct = headers
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                ct.starts_with("application/json"),
                "status {status}: content-type {ct:?} for {}",
                String::from_utf8_lossy(&bytes)
            );
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "status {status}: not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }
}

impl TestApp {
    /// A REST request with the default project's publishable key (`x-api-key`).
    pub fn rest_with_key(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.rest(method, path).header("x-api-key", &self.pk)
    }

    /// GETs `path` with no credentials, expects 200 and returns the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.rest(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// A request to `path` (which may carry a query string) with no credentials.
    pub fn rest(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{}", self.base, path))
    }
}

/// The sorted keys of a JSON object (empty for anything else).
pub fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    k.sort_unstable();
    k
}

/// The payload of a JWT, decoded without checking the signature.
pub fn jwt_payload(token: &str) -> Value {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

/// `path?k=v&…`, form-encoded (reqwest is built without its `query` feature).
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    format!("{path}?{}", q.finish())
}
