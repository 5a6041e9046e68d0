//! Authentication: methods, password, refresh; superusers log in here too.
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::call::{CollPath, PbColl, PbError, RecordPath, Reply};
use super::call::{PbBody, Result, blank};
use super::doc::Errors;
use super::mfa::{outcome_reply, sign_in};
use super::record::{record_json, superuser_json};
use crate::domain::collections::FieldType;
use crate::domain::superusers;
use crate::domain::users::{self, LogInRequest, TokenLifetime};
use crate::error::AppError;
use crate::http::body::not_enabled;

/// `GET /api/health`.
#[utoipa::path(get, path = "/api/health",
    summary = "Health",
    responses((status = 200, description = "`{code, message, data}`", body = Object)))]
pub async fn health() -> Json<Value> {
    Json(json!({"code": 200, "message": "API is healthy.", "data": {}}))
}

/// `GET …/auth-methods`: password log-in by email and by declared unique text
/// fields, and the collection's OAuth2 providers.
#[utoipa::path(get, path = "/api/collections/{collection}/auth-methods", params(CollPath),
    summary = "Authentication methods",
    responses((status = 200, description = "`{password, oauth2, mfa, otp}`", body = Object), Errors<404>))]
pub async fn auth_methods(call: PbColl) -> Result<Json<Value>> {
    let mut identity_fields = vec!["email".to_owned()];
    let mut mfa = (false, 0);
    let mut oauth2 = json!({"enabled": false, "providers": []});
    if !call.is_superusers() {
        let coll = call.collection().await?;
        oauth2 = super::oauth::providers_json(&call, &coll).await;
        if coll.settings.mfa {
            mfa = (true, coll.settings.mfa_duration_secs);
        }
        identity_fields.extend(
            coll.fields
                .iter()
                .filter(|f| f.unique && f.field_type == FieldType::Text)
                .map(|f| f.name.clone()),
        );
    }
    Ok(Json(json!({
        "password": {"enabled": true, "identityFields": identity_fields},
        "oauth2": oauth2,
        "mfa": {"enabled": mfa.0, "duration": mfa.1},
        "otp": {"enabled": false, "duration": 0},
    })))
}

/// `{identity, password[, identityField]}` → `{token, record}`.
#[utoipa::path(post, path = "/api/collections/{collection}/auth-with-password", params(CollPath), request_body = Object,
    summary = "Log in (`identity`, `password`, `identityField`)",
    responses((status = 200, description = "`{token, record}`", body = Object), (status = 401, description = "`{mfaId}`: MFA, send another method with it", body = Object), Errors<400>))]
pub async fn auth_with_password(call: PbColl, body: PbBody) -> Result<Reply> {
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let identity = text("identity").ok_or_else(|| blank("identity"))?;
    let password = text("password").ok_or_else(|| blank("password"))?;
    let svc = call.services();
    if call.is_superusers() {
        let client = &call.caller.client;
        let (token, su) = superusers::log_in(svc, &identity, &password, client).await?;
        return Ok((
            StatusCode::OK,
            Json(json!({"token": token, "record": superuser_json(&su)})),
        ));
    }
    let coll = call.collection().await?;
    let identity_field = text("identityField").filter(|f| !f.is_empty()).or_else(|| {
        // Without `identityField`, an identity that is not an email address is
        // looked up in a declared unique `username`, as PocketBase does.
        (!identity.contains('@') && coll.field("username").is_some_and(|f| f.unique))
            .then(|| "username".to_owned())
    });
    let req = LogInRequest {
        email: identity,
        identity_field,
        password,
        collection: Some(coll.name.clone()),
        context: sign_in(&call, &body),
    };
    let outcome = users::log_in(svc, call.caller.project()?, req).await?;
    outcome_reply(svc, coll, outcome).await
}

/// A new token for the caller's session.
#[utoipa::path(post, path = "/api/collections/{collection}/auth-refresh", params(CollPath), security(("bearer" = [])),
    summary = "New token for the current one",
    responses((status = 200, description = "`{token, record}`", body = Object), Errors<401>))]
pub async fn auth_refresh(call: PbColl) -> Result<Json<Value>> {
    let (svc, caller) = (call.services(), &call.caller);
    if call.is_superusers() {
        let id = caller
            .superuser
            .as_deref()
            .ok_or(AppError::Unauthenticated)?;
        let su = superusers::get(&svc.db, id).await?;
        let token = superusers::issue_token(svc, &su)?;
        return Ok(Json(json!({"token": token, "record": superuser_json(&su)})));
    }
    let coll = call.collection().await?;
    let me = caller.user()?;
    if me.collection_id != coll.id {
        return Err(AppError::Unauthenticated.into());
    }
    let session = caller.session_id()?;
    let auth = users::reissue(svc, me, session, TokenLifetime::LongLived).await?;
    Ok(Json(
        json!({"token": auth.token, "record": record_json(&auth.user, &coll, true)}),
    ))
}

/// Impersonation is not offered.
#[utoipa::path(post, path = "/api/collections/{collection}/impersonate/{id}", params(RecordPath),
    summary = "Impersonation: not enabled on this server (403)",
    responses(Errors<403>))]
pub async fn impersonate(Path(_): Path<RecordPath>) -> PbError {
    not_enabled("impersonation").into()
}
