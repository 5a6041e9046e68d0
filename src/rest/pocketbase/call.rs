//! One extractor for every PocketBase handler: the caller (a stale token makes
//! the request a guest's, as PocketBase does), the collection, the body.
use std::ops::Deref;

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::domain::access::Fallback;
use crate::domain::collections::Collection;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::http::form::Form;
use crate::http::state::AppState;

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
/// An answer that is not always `200`: tokens, or `401` asking for MFA.
pub type Reply = (StatusCode, Json<Value>);

/// The name and id PocketBase gives its superusers collection.
pub const SUPERUSERS: &str = "_superusers";
pub const SUPERUSERS_ID: &str = "pbc_3142635823";

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CollPath {
    pub collection: String,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    pub collection: String,
    pub id: String,
}

/// A path that names a collection.
pub trait NamesCollection {
    fn collection(&self) -> &str;
}

impl NamesCollection for CollPath {
    fn collection(&self) -> &str {
        &self.collection
    }
}

impl NamesCollection for RecordPath {
    fn collection(&self) -> &str {
        &self.collection
    }
}

/// A request on the collection its path names (`…/collections/{collection}/…`;
/// `PbRecord` for a record's path): the request, its path and its query
/// string. The collection is looked up when the handler asks, after the
/// checks that answer first.
pub struct PbColl<P = CollPath> {
    pub call: Pb,
    pub path: P,
    /// The raw query string, if any.
    pub query: Option<String>,
}

/// A request on one record (`…/records/{id}`).
pub type PbRecord = PbColl<RecordPath>;

impl<P: NamesCollection> PbColl<P> {
    /// The collection's name or id, as the path gives it.
    pub fn key(&self) -> &str {
        self.path.collection()
    }

    /// Whether the path names PocketBase's superusers.
    pub fn is_superusers(&self) -> bool {
        self.key() == SUPERUSERS
    }

    /// The auth collection the path names.
    pub async fn collection(&self) -> Result<Collection> {
        self.call.collection(self.key()).await
    }
}

impl<P> Deref for PbColl<P> {
    type Target = Pb;

    fn deref(&self) -> &Pb {
        &self.call
    }
}

impl<S, P> FromRequestParts<S> for PbColl<P>
where
    S: Send + Sync,
    P: DeserializeOwned + Send,
    AppState: FromRef<S>,
{
    /// The caller's error in PocketBase's shape, or axum's answer to a path
    /// it cannot read.
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> std::result::Result<Self, Response> {
        let call = Pb::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Path(path) = Path::<P>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let query = parts.uri.query().map(str::to_owned);
        Ok(PbColl { call, path, query })
    }
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
