//! One extractor for every PocketBase handler: the caller (a stale token makes
//! the request a guest's, as PocketBase does), the collection, the body.
use serde_json::{Map, Value};

use crate::domain::access::Fallback;
use crate::domain::collections::Collection;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::http::form::Form;

/// PocketBase's dialect.
pub struct PocketBase;

impl Dialect for PocketBase {
    const FALLBACK: Fallback = Fallback::DefaultProject;

    const RENDER: fn(&AppError) -> (u16, Value) = super::error::render;

    /// As PocketBase does, an invalid or outdated token makes the request a
    /// guest's (a later authentication in the same client still sends its old token).
    const STALE_TOKEN_IS_GUEST: bool = true;
}

/// A PocketBase request.
pub type Pb = Call<PocketBase>;
/// A PocketBase JSON body.
pub type PbBody = Body<PocketBase>;
/// A PocketBase body that may carry files.
pub type PbForm = Form<PocketBase>;
/// An error in PocketBase's shape.
pub type PbError = Failure<PocketBase>;
/// A PocketBase handler's result.
pub type Result<T> = std::result::Result<T, PbError>;

/// The name and id PocketBase gives its superusers collection.
pub const SUPERUSERS: &str = "_superusers";
pub const SUPERUSERS_ID: &str = "pbc_3142635823";

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct CollPath {
    pub collection: String,
}

#[derive(serde::Deserialize)]
pub struct RecordPath {
    pub collection: String,
    pub id: String,
}

impl Pb {
    /// The auth collection a path names, by name or id, in the caller's project.
    pub async fn collection(&self, key: &str) -> Result<Collection> {
        let svc = self.services();
        let project = self.caller.project()?;
        Ok(svc
            .catalog
            .collection_by_name_or_id(&svc.db, &project.id, key)
            .await?)
    }
}

/// PocketBase's error for a missing value.
pub fn blank(field: &str) -> AppError {
    AppError::required(field, "Cannot be blank.")
}

/// A non-empty string field, or PocketBase's "Cannot be blank." for it.
pub fn required<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| blank(key).into())
}

/// `password` with its `passwordConfirm`, when a body sets one.
pub fn confirm_password(body: &Map<String, Value>) -> Result<Option<String>> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    match (text("password"), text("passwordConfirm")) {
        (None, None) => Ok(None),
        (Some(p), Some(c)) if p == c => Ok(Some(p.to_owned())),
        (Some(_), None) => Err(blank("passwordConfirm").into()),
        _ => Err(AppError::validation("passwordConfirm", "Values don't match.").into()),
    }
}
