//! Configuration: defaults, then an optional TOML file, then `AUTHGRAPH_*`
//! environment variables (and `DATABASE_URL`). Errors name the setting to fix.
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

mod derived;

/// Every setting of the server and the CLI. Secrets are [`Secret`]s, so the
/// `Debug` output can be logged.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Config {
    /// Listen address (`AUTHGRAPH_ADDR`).
    pub addr: String,
    /// Directory for the SQLite database and the generated signing key (`AUTHGRAPH_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (`DATABASE_URL` or `AUTHGRAPH_DATABASE_URL`);
    /// empty means `sqlite://<data_dir>/authgraph.db`.
    pub database_url: String,
    /// Maximum pooled database connections (`AUTHGRAPH_DB_MAX_CONNECTIONS`).
    pub db_max_connections: u32,
    /// HS256 signing secret, at least 32 bytes (`AUTHGRAPH_JWT_SECRET`); when empty a
    /// key is generated in the data directory at first start.
    pub jwt_secret: Secret,
    /// Maximum concurrent argon2id jobs (`AUTHGRAPH_HASH_CONCURRENCY`); 0 = CPU count.
    pub hash_concurrency: usize,
    /// Most password jobs waiting for a hashing worker (`AUTHGRAPH_HASH_QUEUE_MAX`);
    /// one more is refused at once with 503 `OVERLOADED` and `Retry-After`.
    /// 0 = about 500 ms of work for the workers (10 jobs per worker).
    pub hash_queue_max: usize,
    /// Maximum request body in bytes (`AUTHGRAPH_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Serve GraphiQL and allow introspection (`AUTHGRAPH_GRAPHIQL`).
    pub graphiql: bool,
    /// Seconds a rotated refresh token still yields its successor (`AUTHGRAPH_REFRESH_GRACE_SECS`).
    pub refresh_grace_secs: i64,
    /// Most concurrent WebSocket connections (`AUTHGRAPH_MAX_WS_CONNECTIONS`).
    pub max_ws_connections: usize,
    /// `Secure` flag of refresh cookies: `auto` (only when `X-Forwarded-Proto: https`),
    /// `always` or `never` (`AUTHGRAPH_SECURE_COOKIES`).
    pub secure_cookies: String,
    /// Log format: `text` or `json` (`AUTHGRAPH_LOG_FORMAT`).
    pub log_format: String,
    /// How long projects, API keys and collections are cached, in milliseconds
    /// (`AUTHGRAPH_CATALOG_TTL_MS`): the bound for changes made by another
    /// process (the CLI, another instance) to reach this one; 0 disables the cache.
    pub catalog_ttl_ms: u64,
    /// How long a call to an OAuth2 / OpenID Connect provider may take, in
    /// milliseconds (`AUTHGRAPH_OAUTH_TIMEOUT_MS`).
    pub oauth_timeout_ms: u64,
    /// How long a user-token request's session-and-user lookup is cached, in
    /// milliseconds (`AUTHGRAPH_AUTH_CACHE_MS`). Revocations and user changes
    /// made by this instance take effect at once; those of other instances on
    /// the same Postgres arrive by NOTIFY, and at the latest after this long.
    /// 0 disables the cache.
    pub auth_cache_ms: u64,
    /// Seconds between WebSocket pings (`AUTHGRAPH_WS_PING_SECS`); a connection
    /// that answers nothing for two intervals is closed.
    pub ws_ping_secs: u64,
    /// Seconds a SIGTERM waits for in-flight requests to finish
    /// (`AUTHGRAPH_SHUTDOWN_GRACE_SECS`); WebSockets are closed with 1001 at once.
    pub shutdown_grace_secs: u64,
    /// Log-in attempts per client address per rate-limit window
    /// (`AUTHGRAPH_LOGIN_LIMIT_PER_IP`); 0 = no limit.
    pub login_limit_per_ip: u64,
    /// Sign-ups per client address per rate-limit window
    /// (`AUTHGRAPH_SIGNUP_LIMIT_PER_IP`); 0 = no limit.
    pub signup_limit_per_ip: u64,
    /// The window of the per-address and per-account limits, in seconds
    /// (`AUTHGRAPH_RATE_LIMIT_WINDOW_SECS`). Each limit is a leaky bucket: at
    /// most the limit at once, then one more every window / limit seconds.
    pub rate_limit_window_secs: u64,
    /// Refresh-token exchanges per account per window
    /// (`AUTHGRAPH_REFRESH_LIMIT_PER_ACCOUNT`); 0 = no limit.
    pub refresh_limit_per_account: u64,
    /// Password changes (attempts, wrong current passwords included) per
    /// account per window (`AUTHGRAPH_PASSWORD_CHANGE_LIMIT_PER_ACCOUNT`); 0 = no limit.
    pub password_change_limit_per_account: u64,
    /// Refresh-token exchanges per client address per window
    /// (`AUTHGRAPH_REFRESH_LIMIT_PER_IP`); 0 = no limit.
    pub refresh_limit_per_ip: u64,
    /// Password changes (attempts) per client address per window
    /// (`AUTHGRAPH_PASSWORD_CHANGE_LIMIT_PER_IP`); 0 = no limit.
    pub password_change_limit_per_ip: u64,
    /// Requests and confirmations of mailed codes per client address per
    /// window (`AUTHGRAPH_MAIL_CODE_LIMIT_PER_IP`); 0 = no limit.
    pub mail_code_limit_per_ip: u64,
    /// Mailed codes per account and purpose per window
    /// (`AUTHGRAPH_MAIL_CODE_LIMIT_PER_ACCOUNT`); more are not sent; 0 = no limit.
    pub mail_code_limit_per_account: u64,
    /// Second-factor and one-time-code verifications per account per
    /// `mfa_limit_window_secs` (`AUTHGRAPH_MFA_LIMIT_PER_ACCOUNT`); 0 = no limit.
    pub mfa_limit_per_account: u64,
    /// The same per client address (`AUTHGRAPH_MFA_LIMIT_PER_IP`); 0 = no limit.
    pub mfa_limit_per_ip: u64,
    /// The window of the verification limits, in seconds (`AUTHGRAPH_MFA_LIMIT_WINDOW_SECS`).
    pub mfa_limit_window_secs: u64,
    /// The longest wait between two attempts at a mail, in seconds
    /// (`AUTHGRAPH_MAIL_RETRY_MAX_SECS`).
    pub mail_retry_max_secs: u64,
    /// How long a mail is attempted before it is given up, in seconds
    /// (`AUTHGRAPH_MAIL_GIVE_UP_SECS`).
    pub mail_give_up_secs: u64,
    /// How long the outbox keeps the metadata of done mail, in seconds
    /// (`AUTHGRAPH_MAIL_KEEP_SECS`).
    pub mail_keep_secs: u64,
    /// Failed log-ins of one identifier after which it is locked
    /// (`AUTHGRAPH_LOCKOUT_FAILURES`); 0 = no lockout.
    pub lockout_failures: u64,
    /// How long failures are counted and a lock lasts, in seconds (`AUTHGRAPH_LOCKOUT_SECS`).
    pub lockout_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` is trusted, as comma-separated
    /// addresses or CIDR ranges (`AUTHGRAPH_TRUSTED_PROXIES`); empty = none,
    /// the socket's peer address is the client's.
    pub trusted_proxies: String,
    /// Outgoing mail server (`AUTHGRAPH_SMTP_URL`): `smtp://host:port`,
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://user:pass@host`;
    /// empty = no email, and password reset by email is not enabled.
    pub smtp_url: Secret,
    /// The sender of emails (`AUTHGRAPH_MAIL_FROM`).
    pub mail_from: String,
    /// This server's public base URL as users' apps link to it
    /// (`AUTHGRAPH_PUBLIC_URL`), used for links in emails; empty = no link,
    /// the mail carries the token and a code.
    pub public_url: String,
    /// Where uploaded files go (`AUTHGRAPH_STORAGE`): `local` (the directory
    /// `<data_dir>/files`), `s3` (the `AUTHGRAPH_S3_*` settings) or `memory`
    /// (lost at exit; tests).
    pub storage: String,
    /// The S3 bucket (`AUTHGRAPH_S3_BUCKET`).
    pub s3_bucket: String,
    /// The S3 region (`AUTHGRAPH_S3_REGION`); empty = `us-east-1` (MinIO, R2: `auto`).
    pub s3_region: String,
    /// The endpoint of an S3-compatible service (`AUTHGRAPH_S3_ENDPOINT`),
    /// e.g. `http://127.0.0.1:9000`; empty = AWS.
    pub s3_endpoint: String,
    /// The access key id (`AUTHGRAPH_S3_ACCESS_KEY_ID`); empty = the AWS
    /// environment's credentials.
    pub s3_access_key_id: String,
    /// The secret access key (`AUTHGRAPH_S3_SECRET_ACCESS_KEY`).
    pub s3_secret_access_key: Secret,
    /// Path-style requests (`AUTHGRAPH_S3_PATH_STYLE`), as MinIO and moto need.
    pub s3_path_style: bool,
    /// Most bytes of one multipart request with files (`AUTHGRAPH_MAX_UPLOAD_BYTES`);
    /// each file is limited by its field as well.
    pub max_upload_bytes: usize,
    /// The relying-party id of passkeys (`AUTHGRAPH_PASSKEY_RP_ID`); empty =
    /// the host of `public_url`, or `localhost` without one.
    pub passkey_rp_id: String,
    /// The origins passkeys are used from, comma-separated
    /// (`AUTHGRAPH_PASSKEY_ORIGINS`), each on the relying-party id or a
    /// subdomain of it; empty = the origin of `public_url`.
    pub passkey_origins: String,
    /// Also accept passkeys of the relying party `localhost` from
    /// `http://localhost:<any port>`, for development (`AUTHGRAPH_PASSKEY_LOCALHOST`).
    pub passkey_localhost: bool,
    /// Serve the account page `/account` (`AUTHGRAPH_ACCOUNT_PAGE`); it is
    /// off too when GraphiQL is.
    pub account_page: bool,
    /// Days audit events are kept (`AUTHGRAPH_AUDIT_RETENTION_DAYS`); 0 keeps
    /// them forever.
    pub audit_retention_days: u64,
    /// Serve Prometheus metrics (`AUTHGRAPH_METRICS`).
    pub metrics: bool,
    /// A listener of their own for the metrics (`AUTHGRAPH_METRICS_ADDR`, e.g.
    /// `127.0.0.1:9464`); empty = `/metrics` on the main listener.
    pub metrics_addr: String,
    /// A bearer token `/metrics` requires (`AUTHGRAPH_METRICS_TOKEN`, at least
    /// 16 bytes); needed when the metrics share a non-loopback main listener.
    pub metrics_token: Secret,
    /// A PEM file of Ed25519 private keys (PKCS#8) that sign access tokens
    /// (`AUTHGRAPH_SIGNING_KEY_FILE`): the first signs, every one verifies;
    /// empty = keys generated and kept in the database.
    pub signing_key_file: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            db_max_connections: 16,
            jwt_secret: Secret::default(),
            hash_concurrency: 0,
            hash_queue_max: 0,
            max_body_bytes: 1024 * 1024,
            graphiql: true,
            refresh_grace_secs: 10,
            secure_cookies: "auto".into(),
            max_ws_connections: 10_000,
            log_format: "text".into(),
            catalog_ttl_ms: 2000,
            oauth_timeout_ms: 10_000,
            auth_cache_ms: 1000,
            ws_ping_secs: 30,
            shutdown_grace_secs: 10,
            login_limit_per_ip: 20,
            signup_limit_per_ip: 10,
            rate_limit_window_secs: 3600,
            refresh_limit_per_account: 120,
            password_change_limit_per_account: 10,
            refresh_limit_per_ip: 600,
            password_change_limit_per_ip: 30,
            mail_code_limit_per_ip: 20,
            mail_code_limit_per_account: 5,
            mfa_limit_per_account: 5,
            mfa_limit_per_ip: 30,
            mfa_limit_window_secs: 300,
            mail_retry_max_secs: 300,
            mail_give_up_secs: 86_400,
            mail_keep_secs: 7 * 86_400,
            lockout_failures: 10,
            lockout_secs: 900,
            trusted_proxies: String::new(),
            smtp_url: Secret::default(),
            mail_from: "authgraph <no-reply@localhost>".into(),
            public_url: String::new(),
            storage: "local".into(),
            s3_bucket: String::new(),
            s3_region: String::new(),
            s3_endpoint: String::new(),
            s3_access_key_id: String::new(),
            s3_secret_access_key: Secret::default(),
            s3_path_style: false,
            max_upload_bytes: 256 * 1024 * 1024,
            passkey_rp_id: String::new(),
            passkey_origins: String::new(),
            passkey_localhost: true,
            account_page: true,
            audit_retention_days: 90,
            metrics: false,
            metrics_addr: String::new(),
            metrics_token: Secret::default(),
            signing_key_file: String::new(),
        }
    }
}

impl Config {
    /// Loads defaults → TOML file (`path`, or `AUTHGRAPH_CONFIG`, or `./authgraph.toml`
    /// when present) → environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("AUTHGRAPH_CONFIG").map(PathBuf::from));
        let mut builder = config::Config::builder()
            .add_source(config::Config::try_from(&Config::default()).context("default config")?);
        match &explicit {
            Some(p) => {
                if !p.exists() {
                    bail!(
                        "config file {} does not exist (AUTHGRAPH_CONFIG / --config)",
                        p.display()
                    );
                }
                builder = builder.add_source(config::File::from(p.as_path()).required(true));
            }
            None => {
                builder =
                    builder.add_source(config::File::with_name("authgraph.toml").required(false));
            }
        }
        builder = builder.add_source(
            config::Environment::with_prefix("AUTHGRAPH")
                .prefix_separator("_")
                .try_parsing(true),
        );
        let mut cfg: Config = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration (check the TOML file and AUTHGRAPH_* variables)")?;
        if cfg.database_url.is_empty() {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                cfg.database_url = url;
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.socket_addr()?;
        if !self.database_url.is_empty()
            && !(self.database_url.starts_with("sqlite:")
                || self.database_url.starts_with("postgres://")
                || self.database_url.starts_with("postgresql://"))
        {
            bail!(
                "DATABASE_URL must start with sqlite: or postgres:// (got an unsupported scheme)"
            );
        }
        if !self.jwt_secret.is_empty() && self.jwt_secret.len() < 32 {
            bail!("AUTHGRAPH_JWT_SECRET must be at least 32 bytes long");
        }
        if self.db_max_connections == 0 {
            bail!("AUTHGRAPH_DB_MAX_CONNECTIONS must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            bail!("AUTHGRAPH_MAX_BODY_BYTES must be at least 1024");
        }
        if !(0..=300).contains(&self.refresh_grace_secs) {
            bail!("AUTHGRAPH_REFRESH_GRACE_SECS must be between 0 and 300");
        }
        if !matches!(self.secure_cookies.as_str(), "auto" | "always" | "never") {
            bail!("AUTHGRAPH_SECURE_COOKIES must be `auto`, `always` or `never`");
        }
        if !(1..=600).contains(&self.ws_ping_secs) {
            bail!("AUTHGRAPH_WS_PING_SECS must be between 1 and 600");
        }
        if self.shutdown_grace_secs > 300 {
            bail!("AUTHGRAPH_SHUTDOWN_GRACE_SECS must be at most 300");
        }
        if self.auth_cache_ms > 10_000 {
            bail!("AUTHGRAPH_AUTH_CACHE_MS must be at most 10000 (ten seconds)");
        }
        if !(100..=60_000).contains(&self.oauth_timeout_ms) {
            bail!("AUTHGRAPH_OAUTH_TIMEOUT_MS must be between 100 and 60000");
        }
        if self.catalog_ttl_ms > 60_000 {
            bail!("AUTHGRAPH_CATALOG_TTL_MS must be at most 60000 (one minute)");
        }
        if self.rate_limit_window_secs == 0 || self.lockout_secs == 0 {
            bail!("AUTHGRAPH_RATE_LIMIT_WINDOW_SECS and AUTHGRAPH_LOCKOUT_SECS must be at least 1");
        }
        if self.mfa_limit_window_secs == 0 {
            bail!("AUTHGRAPH_MFA_LIMIT_WINDOW_SECS must be at least 1");
        }
        if !(1..=86_400).contains(&self.mail_retry_max_secs) {
            bail!("AUTHGRAPH_MAIL_RETRY_MAX_SECS must be between 1 and 86400");
        }
        if self.mail_give_up_secs < 60 || self.mail_keep_secs == 0 {
            bail!(
                "AUTHGRAPH_MAIL_GIVE_UP_SECS must be at least 60 and AUTHGRAPH_MAIL_KEEP_SECS at least 1"
            );
        }
        crate::http::proxies::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("AUTHGRAPH_TRUSTED_PROXIES: {e}"))?;
        crate::mail::Mailer::from_config(self.smtp_url.expose(), &self.mail_from)?;
        if !self.public_url.is_empty()
            && !(self.public_url.starts_with("https://") || self.public_url.starts_with("http://"))
        {
            bail!("AUTHGRAPH_PUBLIC_URL must start with https:// or http://");
        }
        match self.storage.as_str() {
            "local" | "memory" => {}
            "s3" if self.s3_bucket.is_empty() => {
                bail!("AUTHGRAPH_STORAGE=s3 needs AUTHGRAPH_S3_BUCKET")
            }
            "s3" => {}
            _ => bail!("AUTHGRAPH_STORAGE must be `local`, `s3` or `memory`"),
        }
        if self.max_upload_bytes < self.max_body_bytes {
            bail!("AUTHGRAPH_MAX_UPLOAD_BYTES must be at least AUTHGRAPH_MAX_BODY_BYTES");
        }
        self.relying_parties()?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("AUTHGRAPH_LOG_FORMAT must be `text` or `json`");
        }
        self.validate_metrics()
    }

    fn validate_metrics(&self) -> anyhow::Result<()> {
        if !self.metrics_token.is_empty() && self.metrics_token.len() < 16 {
            bail!("AUTHGRAPH_METRICS_TOKEN must be at least 16 bytes long");
        }
        if !self.metrics {
            return Ok(());
        }
        if self.metrics_addr.is_empty() {
            // Metrics tell much about a deployment: on a listener others reach
            // they are not served to anyone who asks.
            if !self.socket_addr()?.ip().is_loopback() && self.metrics_token.is_empty() {
                bail!(
                    "AUTHGRAPH_METRICS_TOKEN is required when /metrics is served on a \
                     non-loopback AUTHGRAPH_ADDR (or set AUTHGRAPH_METRICS_ADDR to a private listener)"
                );
            }
        } else {
            self.metrics_socket_addr()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn debug_output_hides_the_secrets() {
        let config = Config {
            jwt_secret: "jwt-secret-jwt-secret-jwt-secret-0123".into(),
            smtp_url: "smtps://mailer:smtp-password@mail.example.com".into(),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("jwt-secret-jwt-secret"), "{shown}");
        assert!(!shown.contains("smtp-password"), "{shown}");
        assert!(!shown.contains("mail.example.com"), "{shown}");
        assert!(shown.contains("jwt_secret: Secret([redacted])"), "{shown}");
        assert_eq!(config.jwt_secret.expose().len(), 37);
    }

    #[test]
    fn metrics_on_a_public_listener_need_a_token() {
        let public = Config {
            metrics: true,
            addr: "0.0.0.0:8080".into(),
            ..Config::default()
        };
        let err = public.validate().unwrap_err().to_string();
        assert!(err.contains("AUTHGRAPH_METRICS_TOKEN"), "{err}");
        let with_token = Config {
            metrics_token: "a-metrics-token-of-24-by".into(),
            ..public.clone()
        };
        assert!(with_token.validate().is_ok());
        let own_listener = Config {
            metrics_addr: "127.0.0.1:9464".into(),
            ..public.clone()
        };
        assert!(own_listener.validate().is_ok());
        let bad = Config {
            metrics_addr: "nine-four-six-four".into(),
            ..public
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("AUTHGRAPH_METRICS_ADDR"), "{err}");
        // Loopback needs none.
        assert!(
            Config {
                metrics: true,
                ..Config::default()
            }
            .validate()
            .is_ok()
        );
    }
}
