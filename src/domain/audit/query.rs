//! Reading the audit trail (secret key only, one project at a time) and
//! forgetting it after the retention period.
use chrono::Utc;

use super::{Kind, Outcome};
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
pub use crate::store::audit::{AuditFilter, AuditRow as AuditEvent};
use crate::store::audit::{delete_older, page};

/// Most events in one page.
pub const MAX_PAGE_SIZE: u64 = 500;

/// Most events `exportMe` includes (the newest).
pub const EXPORT_LIMIT: u64 = 1000;

/// Events deleted per statement while purging (short transactions).
const PURGE_BATCH: u64 = 1000;

/// A page of `first` events of a project matching `filter`, newest first,
/// after the cursor `after`; and whether more follow.
pub async fn list(
    svc: &Services,
    project_id: &str,
    filter: &AuditFilter,
    first: u64,
    after: Option<&str>,
) -> AppResult<(Vec<AuditEvent>, bool)> {
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::validation(
            "first",
            format!("page size must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    if let Some(k) = filter.kinds.iter().find(|k| Kind::parse(k).is_none()) {
        let message = format!("`{k}` is not an audit event kind");
        return Err(AppError::validation("kind", message));
    }
    if filter
        .outcome
        .as_deref()
        .is_some_and(|o| Outcome::parse(o).is_none())
    {
        let message = "outcome is success, failure or locked";
        return Err(AppError::validation("outcome", message));
    }
    let before = after.map(parse_cursor).transpose()?;
    // One more row tells whether there is a next page.
    let mut rows = page(&svc.db, project_id, filter, before, first + 1).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// The newest `EXPORT_LIMIT` events about a user, newest first.
pub async fn of_user(
    svc: &Services,
    project_id: &str,
    user_id: &str,
) -> AppResult<Vec<AuditEvent>> {
    let filter = AuditFilter {
        user_id: Some(user_id.to_owned()),
        ..AuditFilter::default()
    };
    page(&svc.db, project_id, &filter, None, EXPORT_LIMIT).await
}

/// The cursor of an event: opaque to callers, its time and id inside.
pub fn cursor(e: &AuditEvent) -> String {
    use base64::Engine;
    let raw = format!("a:{}:{}", e.at, e.id);
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
        let n = delete_older(db, before, PURGE_BATCH).await?;
        total += n;
        if n < PURGE_BATCH {
            return Ok(total);
        }
    }
}
