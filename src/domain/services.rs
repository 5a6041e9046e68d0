//! What the domain needs to do its work.

use sea_orm::DatabaseConnection;

use crate::auth::password::PasswordService;
use crate::auth::refresh::RefreshKey;
use crate::auth::tokens::TokenService;

/// What the domain needs to do its work; cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub db: DatabaseConnection,
    /// SQLite's writer task, which commits writes in groups (none on
    /// Postgres): see `store::writer`.
    pub writes: crate::store::writer::Writer,
    pub passwords: PasswordService,
    pub tokens: TokenService,
    pub refresh: RefreshKey,
    /// Seconds a rotated refresh token still yields its successor.
    pub refresh_grace_secs: i64,
    pub events: super::events::EventBus,
    /// Short-lived cache of projects, keys and collections.
    pub catalog: super::catalog::Catalog,
    /// Short-lived cache of the session-and-user lookup (invalidated by events).
    pub auth_cache: super::auth_cache::AuthCache,
    /// Rate limits and account lockout.
    pub limits: super::limits::rules::Limits,
    /// Keyed hashes of one-time codes (password reset).
    pub codes: crate::auth::codes::CodeKey,
    /// Seals secrets the server reads back (TOTP secrets).
    pub seal: crate::auth::seal::SealKey,
    /// Outgoing email (the outbox's worker sends through it).
    pub mailer: crate::mail::Mailer,
    /// The mail outbox: every mail is stored, then delivered by a worker.
    pub outbox: super::outbox::state::Outbox,
    /// Where file contents are stored.
    pub files: crate::files::FileStore,
    /// Calls to OAuth2 / OpenID Connect providers (timeouts, cached keys).
    pub oauth: crate::auth::oauth::http::OAuthHttp,
    /// The base URL for links in emails (`AUTHGRAPH_PUBLIC_URL`), may be empty.
    pub public_url: String,
    /// The relying parties of passkeys (WebAuthn).
    pub passkeys: super::passkeys::relying_party::RelyingParties,
    /// This instance's Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
}
