//! The audit trail in GraphQL: `auditEvents(where, first, after)`.
use async_graphql::{InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::types::PageInfo;
use crate::domain::audit::query::{AuditEvent, AuditFilter, cursor};

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

impl From<AuditEventWhere> for AuditFilter {
    fn from(w: AuditEventWhere) -> Self {
        let ms = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_millis());
        AuditFilter {
            kinds: w.kind.unwrap_or_default(),
            between: (ms(w.from), ms(w.to)),
            user_id: w.user_id,
            outcome: w.outcome,
        }
    }
}

/// One recorded event: what happened to which account, from where, how it went.
#[derive(SimpleObject)]
#[graphql(name = "AuditEvent")]
pub struct AuditEventObject {
    /// When it happened.
    at: DateTime<Utc>,
    /// Details of the event (method, factor, session, provider; `by` for an
    /// administrator's action); never a secret.
    detail: Json<Value>,
    /// Time-ordered id.
    id: String,
    /// A stable snake_case name (`sign_up`, `log_in`, `password_changed`, …).
    kind: String,
    /// `success`, `failure` or `locked`.
    outcome: String,
    /// The user it is about; null when none is known (a failed log-in for an
    /// unknown email carries a keyed digest of it in `detail.identifier`).
    user_id: Option<String>,
    /// The auth collection of the user.
    collection_id: Option<String>,
    /// The client's address.
    ip: Option<String>,
    /// The client's `User-Agent`.
    user_agent: Option<String>,
}

impl From<&AuditEvent> for AuditEventObject {
    fn from(e: &AuditEvent) -> Self {
        let e = e.clone();
        AuditEventObject {
            at: e.time(),
            detail: Json(e.detail_json()),
            id: e.id,
            kind: e.kind,
            outcome: e.outcome,
            user_id: e.user_id,
            collection_id: e.collection_id,
            ip: e.ip,
            user_agent: e.user_agent,
        }
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
    /// Whether this page follows a cursor.
    pub after: bool,
}

#[Object]
impl AuditEventConnection {
    /// The events of this page.
    async fn nodes(&self) -> Vec<AuditEventObject> {
        self.items.iter().map(AuditEventObject::from).collect()
    }
    /// The events of this page with their cursors.
    async fn edges(&self) -> Vec<AuditEventEdge> {
        let edge = |e| AuditEventEdge {
            cursor: cursor(e),
            node: AuditEventObject::from(e),
        };
        self.items.iter().map(edge).collect()
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
