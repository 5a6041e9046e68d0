//! The signed-in user's profile and password, and public profiles.
use axum::Json;
use axum::extract::Path;
use serde_json::{Map, Value, json};

use super::call::{Result, Ub, UbBody, user_json};
use super::doc::{Errors, Message};
use crate::domain::collections::DEFAULT_COLLECTION;
use crate::domain::profile::{self, RESERVED_KEYS};
use crate::domain::users::{self, ChangePasswordRequest, TokenLifetime, UpdateProfileRequest};
use crate::error::AppError;
use crate::http::body::string_field;
use crate::rest::dates::iso_ts as ts;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
pub struct UsernamePath {
    username: String,
}

#[utoipa::path(get, path = "/api/userAuth/me", security(("bearer" = [])),
    summary = "Current user",
    responses((status = 200, description = "The user document", body = Object), Errors<401>))]
pub async fn me(call: Ub) -> Result<Json<Value>> {
    Ok(Json(user_json(call.caller.user()?)))
}

/// `PUT update-profile`: email, password, `_id` and other account keys are ignored.
#[utoipa::path(put, path = "/api/userAuth/update-profile", security(("bearer" = [])), request_body = Object,
    summary = "Update the profile (email and password ignored)",
    responses(Message<Errors<400, 401>>))]
pub async fn update_profile(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let me = call.caller.user()?;
    let data: Map<String, Value> = body
        .into_inner()
        .into_iter()
        .filter(|(k, _)| !RESERVED_KEYS.contains(&k.as_str()) && k != "isVerified")
        .collect();
    let req = UpdateProfileRequest {
        data,
        ..Default::default()
    };
    users::update_profile(call.services(), me, req).await?;
    Ok(Json(json!({"message": "Profile updated successfully"})))
}

#[utoipa::path(put, path = "/api/userAuth/change-password", security(("bearer" = [])), request_body = Object,
    summary = "Change the password",
    responses(Message<Errors<400, 401>>))]
pub async fn change_password(call: Ub, body: UbBody) -> Result<Json<Value>> {
    let me = call.caller.user()?;
    let req = ChangePasswordRequest {
        current_password: string_field(&body, "currentPassword")?,
        new_password: string_field(&body, "newPassword")?,
        lifetime: TokenLifetime::Short,
        revoke_current_tokens: false,
        client: call.caller.client.clone(),
    };
    let session = call.caller.session_id()?;
    users::change_password(call.services(), me, session, req).await?;
    Ok(Json(json!({"message": "Password changed successfully"})))
}

/// `GET public/:username`: the public view (`profile::public_view`), with the id
/// and dates; no token needed, only the key.
#[utoipa::path(get, path = "/api/userAuth/public/{username}", params(("username" = String, Path)), security(("apiKey" = [])),
    summary = "Public profile (no email or secrets)",
    responses((status = 200, description = "The public profile", body = Object), Errors<401, 404>))]
pub async fn public_profile(
    call: Ub,
    Path(UsernamePath { username }): Path<UsernamePath>,
) -> Result<Json<Value>> {
    let (svc, project) = (call.services(), call.caller.project()?);
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let user = users::find_by_field(&svc.db, &collection, "username", &username)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    doc.extend(profile::public_view(&collection, &user.data));
    doc.insert("createdAt".into(), json!(ts(user.created_at)));
    doc.insert("updatedAt".into(), json!(ts(user.updated_at)));
    Ok(Json(Value::Object(doc)))
}
