//! Which browser origins may call a project with credentials. Any origin may
//! call without them (the API keys and tokens are the credentials of these
//! APIs); an origin a project lists also gets cookies (urBackend's refresh
//! cookie), which a browser sends only when the answer names that origin.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use entity::project;

use crate::error::{AppError, AppResult};

/// An origin as browsers send it: `scheme://host[:port]`, lower case, no path.
pub fn parse_origin(raw: &str) -> AppResult<String> {
    let invalid = || {
        AppError::validation(
            "cors_origins",
            format!("`{raw}` is not an origin (`https://app.example.com`, no path, no `*`)"),
        )
    };
    let origin = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, host) = origin.split_once("://").ok_or_else(invalid)?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !matches!(scheme, "http" | "https") || !host_ok {
        return Err(invalid());
    }
    Ok(origin)
}

/// The stored list (a JSON array), empty when none or unreadable.
pub fn stored(column: Option<&str>) -> Vec<String> {
    column
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default()
}

/// Whether `origin` (a request's `Origin` header) is in a project's list.
pub fn listed(origins: &[String], origin: &str) -> bool {
    let origin = origin.to_ascii_lowercase();
    origins.iter().any(|o| *o == origin)
}

/// Replaces a project's list; every entry must be an origin.
pub async fn set_origins(
    db: &impl ConnectionTrait,
    project_id: &str,
    origins: &[String],
) -> AppResult<bool> {
    let mut list = origins
        .iter()
        .map(|o| parse_origin(o))
        .collect::<AppResult<Vec<_>>>()?;
    list.sort();
    list.dedup();
    let model = project::Entity::find_by_id(project_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    if stored(model.cors_origins.as_deref()) == list {
        return Ok(false);
    }
    let json = serde_json::to_string(&list).map_err(AppError::internal)?;
    let mut active: project::ActiveModel = model.into();
    active.cors_origins = Set(Some(json));
    active.updated_at = Set(chrono::Utc::now());
    active.update(db).await?;
    Ok(true)
}

/// Whether any project lists `origin`: a preflight names no project (a
/// browser sends it without the key), so it may announce credentials for a
/// listed origin; the answer to the request itself decides for its project.
pub async fn any_lists(db: &impl ConnectionTrait, origin: &str) -> AppResult<bool> {
    let Ok(origin) = parse_origin(origin) else {
        return Ok(false);
    };
    let quoted = serde_json::to_string(&origin).map_err(AppError::internal)?;
    let rows = project::Entity::find()
        .filter(project::Column::CorsOrigins.contains(&quoted))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .any(|m| stored(m.cors_origins.as_deref()).contains(&origin)))
}
