//! One extractor for every urBackend handler: every call carries the
//! project's key (or names the project in its URL).
use serde_json::{Map, Value, json};

use crate::domain::users::User;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::rest::dates::iso_ts as ts;

/// urBackend's dialect.
pub struct UrBackend;

impl Dialect for UrBackend {
    const RENDER: fn(&AppError) -> (u16, Value) = super::error::render;

    const KEY_REQUIRED: bool = true;
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
