//! Reading files: which file a URL names, whether the caller may read it
//! (a protected field needs a short-lived file token of someone who may view
//! the record), and those tokens.
use entity::file;

use super::record;
use super::rules::FileRules;
use super::thumbnail;
use crate::auth::tokens::{TokenKind, TokenSubject};
use crate::domain::access::Caller;
use crate::domain::collections::Collection;
use crate::domain::services::Services;
use crate::domain::superusers;
use crate::domain::users::query as user_query;
use crate::error::{AppError, AppResult};

/// How long a file token lives (PocketBase: 3 minutes).
pub const FILE_TOKEN_TTL_SECS: i64 = 180;

/// The marker of a superuser's file token.
const SUPERUSERS: &str = "_superusers";

/// A file a URL names, with the rules of its field.
pub struct FoundFile {
    pub row: file::Model,
    pub rules: FileRules,
}

/// The bytes a file URL serves: the file itself, or one of its thumbnails.
pub struct Object {
    pub storage_key: String,
    pub content_type: String,
    pub size: u64,
    /// Stable for the object (keys are never reused, objects never rewritten).
    pub etag: String,
}

impl FoundFile {
    /// What a GET serves: the thumbnail `thumb` (`?thumb=WxH`) when the
    /// field makes that one for this file, else the file itself.
    pub async fn object(&self, svc: &Services, thumb: Option<&str>) -> AppResult<Object> {
        let (row, rules) = (&self.row, &self.rules);
        if let Some(spec) = thumb {
            let (key, ty) = (&row.storage_key, &row.content_type);
            if let Some(t) = thumbnail::thumb(&svc.files, key, ty, rules, spec).await? {
                return Ok(Object {
                    storage_key: t.storage_key,
                    content_type: t.content_type.to_owned(),
                    size: t.size,
                    etag: format!("{}-{spec}", row.id),
                });
            }
        }
        Ok(Object {
            storage_key: row.storage_key.clone(),
            content_type: row.content_type.clone(),
            size: row.size as u64,
            etag: row.id.clone(),
        })
    }
}

/// The file `name` of record `record_id` in `collection`, if the caller (by
/// a file token for protected fields) may read it.
pub async fn find(
    svc: &Services,
    collection: &Collection,
    record_id: &str,
    name: &str,
    token: Option<&str>,
) -> AppResult<FoundFile> {
    let row = record::find(&svc.db, &collection.project_id, record_id, name)
        .await?
        .filter(|r| r.collection_id == collection.id)
        .ok_or(AppError::NotFound("file"))?;
    let rules = FileRules::of(collection.field(&row.field));
    if rules.protected && !token_may_view(svc, token, record_id).await {
        return Err(AppError::Forbidden(
            "Insufficient permissions to access the file resource.".into(),
        ));
    }
    Ok(FoundFile { row, rules })
}

/// Whether a file token belongs to someone who may view the record: its
/// owner or a superuser (the default view rule).
async fn token_may_view(svc: &Services, token: Option<&str>, record_id: &str) -> bool {
    let Some(claims) = token.and_then(|t| svc.tokens.verify(t).ok()) else {
        return false;
    };
    if claims.kind != TokenKind::File {
        return false;
    }
    if claims.collection_id == SUPERUSERS {
        return superusers::get(&svc.db, &claims.sub)
            .await
            .is_ok_and(|su| su.token_version == claims.tv);
    }
    if claims.sub != record_id {
        return false;
    }
    user_query::get(&svc.db, &claims.pid, &claims.sub)
        .await
        .is_ok_and(|u| u.token_version == claims.tv && !u.disabled)
}

/// A short-lived token for protected files, for a signed-in user or superuser.
pub async fn file_token(svc: &Services, caller: &Caller) -> AppResult<String> {
    let su = match &caller.superuser {
        Some(id) if caller.user.is_none() => Some(superusers::get(&svc.db, id).await?),
        _ => None,
    };
    let subject = if let Some(u) = &caller.user {
        TokenSubject {
            kind: TokenKind::File,
            user_id: &u.id,
            project_id: &u.project_id,
            collection_id: &u.collection_id,
            token_version: u.token_version,
            session_id: "",
            ttl_secs: FILE_TOKEN_TTL_SECS,
        }
    } else if let Some(su) = &su {
        TokenSubject {
            kind: TokenKind::File,
            user_id: &su.id,
            project_id: "",
            collection_id: SUPERUSERS,
            token_version: su.token_version,
            session_id: "",
            ttl_secs: FILE_TOKEN_TTL_SECS,
        }
    } else {
        return Err(AppError::Unauthenticated);
    };
    svc.tokens.issue(&subject)
}
