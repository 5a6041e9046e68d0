//! The signed-in user's account, and a user by id.
use axum::Json;
use axum::extract::Path;
use serde_json::{Value, json};

use super::auth::profile_of;
use super::call::linked_user_json;
use super::call::{Coco, CocoBody, CocoForm, IdPath, Result, auth_json, form_body};
use super::doc::Errors;
use crate::domain::access::View;
use crate::domain::files::{self, Staging, urls};
use crate::domain::profile;
use crate::domain::users::{
    self, AccountUpdate, ChangePasswordRequest, CurrentPassword, NewPassword, TokenLifetime,
    UpdateProfileRequest,
};
use crate::error::AppError;
use crate::http::body::{opt_object, opt_string};
use crate::rest::dates::iso_ts as ts;

#[utoipa::path(get, path = "/auth-collections/user", security(("bearer" = [])),
    summary = "Current user",
    responses((status = 200, description = "The user", body = Object), Errors<401>))]
pub async fn current_user(call: Coco) -> Result<Json<Value>> {
    let user = call.caller.user()?;
    Ok(Json(linked_user_json(call.services(), user).await?))
}

/// PUT and PATCH: merge `data` (and flat fields), `$append`/`$remove`, and a
/// `password` key changes the password, as the SDK does; one change.
/// Multipart: a `data` part with that JSON and one part per file field.
#[utoipa::path(method(put, patch), path = "/auth-collections/user", security(("bearer" = [])), request_body = Object,
    summary = "Update the profile (merge; `$append`/`$remove`; `password` changes it; multipart with files)",
    responses((status = 200, description = "The user (file fields as URLs)", body = Object), Errors<401, 413, 422>))]
pub async fn update_user(call: Coco, form: CocoForm) -> Result<Json<Value>> {
    let me = call.caller.user()?;
    let svc = call.services();
    let coll = svc.catalog.collection(&svc.db, &me.collection_id).await?;
    let mut staging = Staging::new(&svc.files, &coll, &me.id);
    let update = match form_body(form, &coll, &mut staging).await {
        Ok(body) => update_request(&call, &body, &coll).await,
        Err(e) => Err(e),
    };
    let update = match update {
        Ok(u) => u,
        Err(e) => {
            staging.discard().await;
            return Err(e);
        }
    };
    let user = files::update(svc, me, update, staging).await?;
    Ok(Json(linked_user_json(svc, &user).await?))
}

async fn update_request(
    call: &Coco,
    body: &serde_json::Map<String, Value>,
    coll: &crate::domain::collections::Collection,
) -> Result<AccountUpdate> {
    let me = call.caller.user()?;
    if let Some(email) = opt_string(body, "email")? {
        if !email.trim().eq_ignore_ascii_case(&me.email) {
            return Err(
                AppError::validation("email", "the email address cannot be changed here").into(),
            );
        }
    }
    let mut data = profile_of(body)?;
    urls::names_from_urls(call.services(), coll, Some(&me.id), &mut data).await?;
    // `$append`/`$remove` may sit at the top level or inside `data`.
    let mut append = opt_object(body, "$append")?;
    let mut remove = opt_object(body, "$remove")?;
    for (key, target) in [("$append", &mut append), ("$remove", &mut remove)] {
        match data.remove(key) {
            Some(Value::Object(m)) => target.extend(m),
            Some(_) => {
                return Err(AppError::validation(key, format!("`{key}` must be an object")).into());
            }
            None => {}
        }
    }
    // Cocobase's update sends no current password; the caller's own session
    // and its token stay valid, every other session ends.
    let password = opt_string(body, "password")?
        .map(|new| NewPassword::by(&call.caller, new, CurrentPassword::NotAsked))
        .transpose()?
        .map(|np| NewPassword {
            keep_session: call.caller.session_id.clone(),
            revoke_current_tokens: false,
            ..np
        });
    let profile = UpdateProfileRequest {
        data,
        append,
        remove,
    };
    Ok(AccountUpdate::new(profile, password))
}

#[utoipa::path(post, path = "/auth-collections/change-password", security(("bearer" = [])), request_body = Object,
    summary = "Change the password (current password required)",
    responses((status = 200, description = "`{message, access_token, token_type, user}`", body = Object), Errors<401, 422>))]
pub async fn change_password(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let me = call.caller.user()?;
    let pick = |names: &[&str]| -> Result<Option<String>> {
        for n in names {
            if let Some(v) = opt_string(&body, n)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let current = pick(&[
        "current_password",
        "old_password",
        "currentPassword",
        "oldPassword",
    ])?
    .ok_or_else(|| AppError::validation("current_password", "`current_password` is required"))?;
    let new_password = pick(&["new_password", "newPassword", "password"])?
        .ok_or_else(|| AppError::validation("new_password", "`new_password` is required"))?;
    let req = ChangePasswordRequest {
        current_password: current,
        new_password,
        lifetime: TokenLifetime::LongLived,
        revoke_current_tokens: true,
        client: call.caller.client.clone(),
    };
    let session = call.caller.session_id()?;
    let auth = users::change_password(call.services(), me, session, req).await?;
    let mut out = auth_json(&auth.token, &auth.user);
    out["message"] = json!("Password changed successfully");
    Ok(Json(out))
}

/// `GET /auth-collections/users/{id}`: the full record for its owner and the
/// secret key; otherwise the public view.
#[utoipa::path(get, path = "/auth-collections/users/{id}", params(("id" = String, Path)), security(("apiKey" = [])),
    summary = "One user (public fields for others)",
    responses((status = 200, description = "The user", body = Object), Errors<401, 404>))]
pub async fn get_user(call: Coco, Path(IdPath { id }): Path<IdPath>) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    let user = users::get(&svc.db, &caller.project()?.id, &id).await?;
    if caller.view_of(&user.id) == View::Full {
        return Ok(Json(linked_user_json(svc, &user).await?));
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let linked = urls::linked_profile(svc, &user).await?;
    let public = profile::public_view(&collection, &linked);
    Ok(Json(
        json!({"id": user.id, "data": public, "created_at": ts(user.created_at)}),
    ))
}
