//! Reading the audit trail (secret key only, one project at a time) and
//! forgetting it after the retention period.
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::{Kind, Outcome};
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self as rows, AuditRow, AuditSelection};

/// Most events in one page.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Most events `exportMe` includes (the newest).
pub const EXPORT_LIMIT: u64 = 1000;

/// Events deleted per statement while purging (short transactions).
const PURGE_BATCH: u64 = 1000;

/// An audit event as the domain shows it.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    pub id: String,
    pub project_id: Option<String>,
    pub collection_id: Option<String>,
    pub user_id: Option<String>,
    pub kind: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: DateTime<Utc>,
    pub detail: Value,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            at: Utc.timestamp_millis_opt(r.at).single().unwrap_or_default(),
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
            id: r.id,
            project_id: r.project_id,
            collection_id: r.collection_id,
            user_id: r.user_id,
            kind: r.kind,
            outcome: r.outcome,
            ip: r.ip,
            user_agent: r.user_agent,
        }
    }
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub user_id: Option<String>,
    /// Any of these; all kinds when empty.
    pub kinds: Vec<Kind>,
    pub outcome: Option<Outcome>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The cursor of the last event already seen.
    pub after: Option<String>,
    pub first: u64,
}

/// A page of a project's events, newest first, and whether more follow.
pub async fn list(
    svc: &Services,
    project_id: &str,
    q: &AuditQuery,
) -> AppResult<(Vec<AuditEvent>, bool)> {
    if !(1..=MAX_PAGE_SIZE).contains(&q.first) {
        return Err(AppError::validation(
            "first",
            format!("page size must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let selection = AuditSelection {
        project_id: project_id.to_owned(),
        user_id: q.user_id.clone(),
        kinds: q.kinds.iter().map(|k| k.key().to_owned()).collect(),
        outcome: q.outcome.map(|o| o.key().to_owned()),
        from: q.from.map(|t| t.timestamp_millis()),
        to: q.to.map(|t| t.timestamp_millis()),
        before: q.after.as_deref().map(parse_cursor).transpose()?,
        // One more row tells whether there is a next page.
        limit: q.first + 1,
    };
    let mut page = rows::page(&svc.db, &selection).await?;
    let more = page.len() as u64 > q.first;
    page.truncate(q.first as usize);
    Ok((page.into_iter().map(AuditEvent::from).collect(), more))
}

/// The newest `EXPORT_LIMIT` events about a user, newest first.
pub async fn of_user(
    svc: &Services,
    project_id: &str,
    user_id: &str,
) -> AppResult<Vec<AuditEvent>> {
    let selection = AuditSelection {
        project_id: project_id.to_owned(),
        user_id: Some(user_id.to_owned()),
        limit: EXPORT_LIMIT,
        ..AuditSelection::default()
    };
    let page = rows::page(&svc.db, &selection).await?;
    Ok(page.into_iter().map(AuditEvent::from).collect())
}

/// The cursor of an event: opaque to callers, its time and id inside.
pub fn cursor(e: &AuditEvent) -> String {
    use base64::Engine;
    let raw = format!("a:{}:{}", e.at.timestamp_millis(), e.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn parse_cursor(cursor: &str) -> AppResult<(i64, String)> {
    use base64::Engine;
    let bad = || AppError::validation("after", "not a cursor of this connection");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text
        .strip_prefix("a:")
        .and_then(|t| t.split_once(':'))
        .ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.to_owned()))
}

/// Deletes the events older than `days` days (0 keeps them forever), in
/// batches; how many went.
pub async fn purge(db: &impl sea_orm::ConnectionTrait, days: u64) -> AppResult<u64> {
    if days == 0 {
        return Ok(0);
    }
    let before = Utc::now().timestamp_millis() - (days as i64) * 86_400_000;
    let mut total = 0;
    loop {
        let n = rows::delete_older(db, before, PURGE_BATCH).await?;
        total += n;
        if n < PURGE_BATCH {
            return Ok(total);
        }
    }
}
