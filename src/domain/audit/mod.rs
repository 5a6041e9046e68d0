//! The audit trail: who did what to which account, from where, and how it
//! went. Every door reaches the same domain functions, and those record their
//! event with one call (`audit::of(&user, Kind::LogIn).save(svc)`), so no door
//! can forget one. Each event is also written to the structured log (target
//! `audit`). Never recorded: passwords, tokens, codes, the email of an unknown
//! account (only a keyed digest of it).
mod kind;
pub mod query;
mod scope;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde_json::{Map, Value};

pub use kind::{Kind, Outcome};
pub use scope::{Actor, by_admin, inherit, note, scope};

use super::client::{ClientInfo, clip};
use super::services::Services;
use super::users::model::User;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self as rows, AuditRow};

/// An event about to be recorded.
#[derive(Clone, Debug)]
pub struct Event {
    kind: Kind,
    outcome: Outcome,
    project_id: Option<String>,
    collection_id: Option<String>,
    user_id: Option<String>,
    client: Option<ClientInfo>,
    detail: Map<String, Value>,
}

/// An event about `user`.
pub fn of(user: &User, kind: Kind) -> Event {
    Event::new(kind)
        .project(&user.project_id, Some(&user.collection_id))
        .user(&user.id)
}

/// An event of a collection with no known user (a failed log-in).
pub fn in_collection(project_id: &str, collection_id: &str, kind: Kind) -> Event {
    Event::new(kind).project(project_id, Some(collection_id))
}

/// An event about a session: its user, and its id in the detail.
pub fn of_session(s: &entity::session::Model, kind: Kind) -> Event {
    let event = in_collection(&s.project_id, &s.collection_id, kind).user(&s.user_id);
    event.with("session", s.id.as_str())
}

/// An event of a project with no known collection or user (a credential
/// nobody has).
pub fn in_project(project_id: &str, kind: Kind) -> Event {
    Event::new(kind).project(project_id, None)
}

/// An event of no project (the signing keys are the server's).
pub fn server(kind: Kind) -> Event {
    Event::new(kind)
}

impl Event {
    fn new(kind: Kind) -> Event {
        Event {
            kind,
            outcome: Outcome::Success,
            project_id: None,
            collection_id: None,
            user_id: None,
            client: None,
            detail: Map::new(),
        }
    }

    fn project(mut self, project_id: &str, collection_id: Option<&str>) -> Event {
        self.project_id = Some(project_id.to_owned());
        self.collection_id = collection_id.map(str::to_owned);
        self
    }

    /// The user the event is about.
    pub fn user(mut self, user_id: &str) -> Event {
        self.user_id = Some(user_id.to_owned());
        self
    }

    /// Where the request came from (else the request's own, see `scope`).
    pub fn client(mut self, client: &ClientInfo) -> Event {
        self.client = Some(client.clone());
        self
    }

    /// How it went (success unless told).
    pub fn outcome(mut self, outcome: Outcome) -> Event {
        self.outcome = outcome;
        self
    }

    /// A failure.
    pub fn failed(self) -> Event {
        self.outcome(Outcome::Failure)
    }

    /// One more field of the detail (never a secret).
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Event {
        self.detail.insert(key.to_owned(), value.into());
        self
    }

    /// The user tried, if known; else a digest of the identifier it gave.
    pub fn user_or(self, svc: &Services, user_id: Option<&str>, identifier: &str) -> Event {
        match user_id {
            Some(id) => self.user(id),
            None => self.with("identifier", digest(svc, identifier)),
        }
    }

    /// Records a refused attempt and hands back its error (a failure to
    /// record is logged: the caller's answer stays the refusal).
    pub async fn refuse(self, svc: &Services, err: AppError) -> AppError {
        if let Err(e) = self.save(svc).await {
            tracing::error!(error = ?e, "could not record an audit event");
        }
        err
    }

    /// Records the event on its own.
    pub async fn save(self, svc: &Services) -> AppResult<()> {
        self.save_in(&svc.db).await
    }

    /// Records the event within the caller's transaction (it commits, or
    /// neither the change nor its record does).
    pub async fn save_in(self, db: &impl ConnectionTrait) -> AppResult<()> {
        rows::insert(db, &self.into_row()).await
    }

    /// The event with the current request's actor and client written into
    /// it, for a record another task saves (SQLite's writer task, outside
    /// the request's scope).
    pub fn stamped(mut self) -> Event {
        let request = scope::current();
        if let Some(by) = request.as_ref().and_then(|r| r.actor.as_ref()) {
            if by.is_admin() {
                self.detail.insert("by".into(), by.label().into());
            }
        }
        self.client = self
            .client
            .filter(|c| c.ip.is_some() || c.user_agent.is_some())
            .or_else(|| request.map(|r| r.client));
        self
    }

    fn into_row(self) -> AuditRow {
        let mut event = self.stamped();
        let client = event.client.take().unwrap_or_default();
        let now = Utc::now().timestamp_millis();
        let row = AuditRow {
            id: new_id(now),
            project_id: event.project_id,
            collection_id: event.collection_id,
            user_id: event.user_id,
            kind: event.kind.key().to_owned(),
            outcome: event.outcome.key().to_owned(),
            ip: clip(client.ip, 64),
            user_agent: clip(client.user_agent, 256),
            at: now,
            detail: Value::Object(event.detail).to_string(),
        };
        tracing::info!(
            target: "audit",
            kind = %row.kind,
            outcome = %row.outcome,
            project_id = row.project_id.as_deref().unwrap_or(""),
            user_id = row.user_id.as_deref().unwrap_or(""),
            ip = row.ip.as_deref().unwrap_or(""),
            user_agent = row.user_agent.as_deref().unwrap_or(""),
            detail = %row.detail,
            "audit event"
        );
        row
    }
}

/// The events of an account update: an administrator's changes to the
/// profile and password, or the user's own new password.
pub fn account_update(user: &User, profile: bool, password: bool) -> Vec<Event> {
    let admin = by_admin();
    let kinds = [
        (admin && profile, Kind::UserUpdated),
        (admin && password, Kind::PasswordSet),
        (!admin && password, Kind::PasswordChanged),
    ];
    kinds
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, kind)| of(user, kind))
        .collect()
}

/// A keyed digest of an identifier no account has (a failed log-in's email):
/// repeated attempts at one address can be told apart, the address cannot be
/// read back.
pub fn digest(svc: &Services, identifier: &str) -> String {
    let mac = svc
        .codes
        .hash("audit identifier", &identifier.to_lowercase());
    mac[..16].to_owned()
}

/// Time-ordered ids: the milliseconds in hex, then random letters.
fn new_id(now_ms: i64) -> String {
    format!("{now_ms:012x}{}", &crate::auth::keys::new_id()[..8])
}
