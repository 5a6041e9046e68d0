//! Exports: a project's users and identities as JSON lines (`authgraph
//! export`), and a user's own data (`exportMe`, the GDPR right of access).
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};

use entity::user;

use super::services::Services;
use super::users::User;
use super::{audit, oauth, sessions};
use crate::error::{AppError, AppResult};
use crate::store::raw;

/// Users read per query while exporting a project.
const PAGE: u64 = 1000;

/// A user as exported: the account and profile, never a secret.
fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "collectionId": u.collection_id,
        "email": u.email,
        "verified": u.verified,
        "disabled": u.disabled,
        "roles": u.roles,
        "data": u.data,
        "created": u.created_at.to_rfc3339(),
        "updated": u.updated_at.to_rfc3339(),
    })
}

/// Writes every user of the project (`{"type":"user",…}`, with `passwordHash`
/// when `with_hashes`), then every linked identity (`{"type":"identity",…}`),
/// one JSON object per call of `line`. Returns the number of users.
pub async fn project(
    svc: &Services,
    slug: &str,
    with_hashes: bool,
    line: &mut (dyn FnMut(Value) -> std::io::Result<()> + Send),
) -> AppResult<u64> {
    let project = svc.catalog.project_by_slug(&svc.db, slug).await?;
    let mut after = String::new();
    let mut count = 0;
    loop {
        let page = user::Entity::find()
            .filter(user::Column::ProjectId.eq(&project.id))
            .filter(user::Column::Id.gt(&after))
            .order_by_asc(user::Column::Id)
            .limit(PAGE)
            .all(&svc.db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for model in page {
            let hash = model.password_hash.clone();
            let mut out = user_json(&User::from(model));
            out["type"] = json!("user");
            if with_hashes && !hash.is_empty() {
                out["passwordHash"] = json!(hash);
            }
            line(out).map_err(AppError::internal)?;
            count += 1;
        }
    }
    let identities = raw::query_all(
        &svc.db,
        "SELECT i.provider, i.subject, i.user_id, i.email, i.email_verified \
         FROM oauth_identities i JOIN users u ON u.id = i.user_id \
         WHERE u.project_id = $1 ORDER BY i.user_id, i.provider",
        vec![project.id.clone().into()],
    )
    .await?;
    for r in identities {
        line(json!({
            "type": "identity",
            "userId": r.try_get::<String>("", "user_id")?,
            "provider": r.try_get::<String>("", "provider")?,
            "subject": r.try_get::<String>("", "subject")?,
            "email": r.try_get::<Option<String>>("", "email")?,
            "emailVerified": r.try_get::<bool>("", "email_verified")?,
        }))
        .map_err(AppError::internal)?;
    }
    Ok(count)
}

/// Everything authgraph keeps about `user` that the user may see: profile,
/// live sessions, linked identities and its newest audit events (at most
/// `audit::query::EXPORT_LIMIT`, newest first).
pub async fn me(svc: &Services, user: &User) -> AppResult<Value> {
    let sessions: Vec<Value> = sessions::list(&svc.db, &user.id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created": s.created_at.to_rfc3339(),
                "lastUsed": s.last_used_at.to_rfc3339(),
                "expires": s.expires_at.to_rfc3339(),
                "ip": s.client.ip,
                "userAgent": s.client.user_agent,
            })
        })
        .collect();
    let identities: Vec<Value> = oauth::identities::list(svc, &user.id)
        .await?
        .into_iter()
        .map(|i| json!({"provider": i.provider, "email": i.email, "emailVerified": i.email_verified}))
        .collect();
    let audit_events: Vec<Value> = audit::query::of_user(svc, &user.project_id, &user.id)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at": e.time().to_rfc3339(),
                "detail": e.detail_json(),
                "id": e.id,
                "kind": e.kind,
                "outcome": e.outcome,
                "ip": e.ip,
                "userAgent": e.user_agent,
            })
        })
        .collect();
    Ok(json!({
        "exportedAt": chrono::Utc::now().to_rfc3339(),
        "profile": user_json(user),
        "sessions": sessions,
        "identities": identities,
        "auditEvents": audit_events,
    }))
}
