//! One extractor for every Cocobase handler: the caller (a key or token names
//! the project) and the body.
use serde_json::{Value, json};

use crate::domain::users::User;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::rest::dates::iso_ts as ts;

/// Cocobase's dialect.
pub struct Cocobase;

impl Dialect for Cocobase {
    const RENDER: fn(&AppError) -> (u16, Value) = super::error::render;
}

/// A Cocobase request.
pub type Coco = Call<Cocobase>;
/// A Cocobase JSON body.
pub type CocoBody = Body<Cocobase>;
/// An error in Cocobase's shape.
pub type CocoError = Failure<Cocobase>;
/// A Cocobase handler's result.
pub type Result<T> = std::result::Result<T, CocoError>;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct IdPath {
    pub id: String,
}

/// A user as Cocobase shows it to itself and to administrators.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "data": u.data,
        "roles": u.roles,
        "verified": u.verified,
        "client_id": u.project_id,
        "created_at": ts(u.created_at),
        "updated_at": ts(u.updated_at),
    })
}

/// The answer to a sign-up or log-in.
pub fn auth_json(token: &str, user: &User) -> Value {
    json!({"access_token": token, "token_type": "bearer", "user": user_json(user)})
}
