//! The audit trail in GraphQL: `auditEvents(where, first, after)`.
use async_graphql::{InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::types::PageInfo;
use crate::domain::audit::query::{AuditEvent, AuditQuery, cursor};
use crate::domain::audit::{Kind, Outcome};
use crate::error::{AppError, AppResult};

/// Which audit events to list; every condition given must hold.
#[derive(InputObject, Default)]
pub struct AuditEventWhere {
    /// Events about this user.
    pub user_id: Option<String>,
    /// Any of these kinds (`log_in`, `password_changed`, … see the README).
    pub kind: Option<Vec<String>>,
    /// `success`, `failure` or `locked`.
    pub outcome: Option<String>,
    /// From this time on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this time (exclusive).
    pub to: Option<DateTime<Utc>>,
}

impl AuditEventWhere {
    /// The domain's query for a page of `first` after `after`.
    pub fn to_query(&self, first: u64, after: Option<String>) -> AppResult<AuditQuery> {
        let kinds = self
            .kind
            .iter()
            .flatten()
            .map(|k| {
                Kind::parse(k).ok_or_else(|| {
                    AppError::validation("kind", format!("`{k}` is not an audit event kind"))
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let outcome = self
            .outcome
            .as_deref()
            .map(|o| {
                Outcome::parse(o).ok_or_else(|| {
                    AppError::validation("outcome", "outcome is success, failure or locked")
                })
            })
            .transpose()?;
        Ok(AuditQuery {
            user_id: self.user_id.clone(),
            kinds,
            outcome,
            from: self.from,
            to: self.to,
            after,
            first,
        })
    }
}

/// One recorded event: what happened to which account, from where, how it went.
pub struct AuditEventObject(pub AuditEvent);

#[Object(name = "AuditEvent")]
impl AuditEventObject {
    /// Time-ordered id.
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// A stable snake_case name (`sign_up`, `log_in`, `password_changed`, …).
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// `success`, `failure` or `locked`.
    async fn outcome(&self) -> &str {
        &self.0.outcome
    }
    /// The user it is about; null when none is known (a failed log-in for an
    /// unknown email carries a keyed digest of it in `detail.identifier`).
    async fn user_id(&self) -> Option<&str> {
        self.0.user_id.as_deref()
    }
    /// The auth collection of the user.
    async fn collection_id(&self) -> Option<&str> {
        self.0.collection_id.as_deref()
    }
    /// The client's address.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }
    /// The client's `User-Agent`.
    async fn user_agent(&self) -> Option<&str> {
        self.0.user_agent.as_deref()
    }
    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Details of the event (method, factor, session, provider, `by` for an
    /// administrator's action); never a secret.
    async fn detail(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.detail.clone())
    }
}

/// An edge of an audit event connection.
#[derive(SimpleObject)]
pub struct AuditEventEdge {
    /// Opaque cursor for `after`.
    pub cursor: String,
    pub node: AuditEventObject,
}

/// A page of audit events, newest first.
pub struct AuditEventConnection {
    pub items: Vec<AuditEvent>,
    pub has_next: bool,
    pub after: bool,
}

#[Object]
impl AuditEventConnection {
    /// The events of this page.
    async fn nodes(&self) -> Vec<AuditEventObject> {
        self.items.iter().cloned().map(AuditEventObject).collect()
    }
    /// The events of this page with their cursors.
    async fn edges(&self) -> Vec<AuditEventEdge> {
        self.items
            .iter()
            .map(|e| AuditEventEdge {
                cursor: cursor(e),
                node: AuditEventObject(e.clone()),
            })
            .collect()
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.after,
            start_cursor: self.items.first().map(cursor),
            end_cursor: self.items.last().map(cursor),
        }
    }
}
