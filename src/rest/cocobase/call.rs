//! One extractor for every Cocobase handler: the caller (a key or token names
//! the project) and the body.
use serde_json::{Map, Value, json};

use crate::domain::Services;
use crate::domain::collections::Collection;
use crate::domain::files::{Staging, urls};
use crate::domain::profile;
use crate::domain::users::User;
use crate::error::AppError;
use crate::http::body::Body;
use crate::http::dialect::{Call, Dialect, Failure};
use crate::http::form::Form;
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
/// A Cocobase JSON or multipart body.
pub type CocoForm = Form<Cocobase>;
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

/// `user_json` with file fields as the URLs the server serves them at.
pub async fn linked_user_json(svc: &Services, u: &User) -> Result<Value> {
    let mut v = user_json(u);
    v["data"] = urls::linked_profile(svc, u).await?;
    Ok(v)
}

/// A body's fields: JSON as sent; multipart as Cocobase sends it, a `data`
/// part holding the JSON body, other text parts profile values, and every
/// file part stored in `staging` under its field's name.
pub async fn form_body(
    form: CocoForm,
    coll: &Collection,
    staging: &mut Staging,
) -> Result<Map<String, Value>> {
    let read = form.read(Some(staging), &["data"]).await?;
    let mut body = read.fields;
    let data = match body.get_mut("data") {
        Some(Value::Object(m)) => m,
        Some(Value::Null) | None => {
            body.insert("data".into(), Value::Object(Map::new()));
            body.get_mut("data")
                .and_then(Value::as_object_mut)
                .expect("an object")
        }
        Some(_) => {
            return Err(AppError::validation("data", "`data` must be an object").into());
        }
    };
    for (key, v) in read.text {
        let text = v.as_str().unwrap_or("");
        data.insert(key.clone(), profile::from_form_text(coll, &key, text));
    }
    Ok(body)
}
