//! One extractor for every urBackend handler: every call carries the
//! project's key (or names the project in its URL).
use serde_json::{Map, Value, json};

use crate::domain::Services;
use crate::domain::access::{Caller, Credentials, Fallback};
use crate::domain::users::User;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::rest::dates::iso_ts as ts;

/// urBackend's dialect.
pub struct UrBackend;

impl Dialect for UrBackend {
    fn render(err: &AppError) -> (u16, Value) {
        super::error::render(err)
    }

    async fn resolve(
        svc: &Services,
        creds: Credentials,
        tenant: Option<String>,
    ) -> crate::error::AppResult<Caller> {
        if creds.api_key.is_none() && tenant.is_none() {
            return Err(AppError::Unauthenticated);
        }
        Caller::resolve_in(svc, &creds, tenant.as_deref(), Fallback::None).await
    }
}

/// A urBackend request.
pub type Ub = Call<UrBackend>;
/// A urBackend JSON body.
pub type UbBody = Body<UrBackend>;
/// An error in urBackend's shape.
pub type UbError = Failure<UrBackend>;
/// A urBackend handler's result.
pub type Result<T> = std::result::Result<T, UbError>;

/// A user document as urBackend shows it to itself: profile fields flat, no secrets.
pub fn user_json(u: &User) -> Value {
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(u.id));
    doc.insert("email".into(), json!(u.email));
    if let Some(profile) = u.data.as_object() {
        for (k, v) in profile {
            doc.insert(k.clone(), v.clone());
        }
    }
    doc.insert("isVerified".into(), json!(u.verified));
    doc.insert("createdAt".into(), json!(ts(u.created_at)));
    doc.insert("updatedAt".into(), json!(ts(u.updated_at)));
    Value::Object(doc)
}
