//! Sign-up and log-in (`/auth-collections/*` and the older `/auth/register`).
use axum::Json;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::{Coco, CocoBody, CocoForm, Result, form_body, linked_user_json};
use super::doc::Errors;
use super::two_factor::outcome_json;
use crate::domain::Services;
use crate::domain::collections::DEFAULT_COLLECTION;
use crate::domain::files::{self, Staging, urls};
use crate::domain::second_factor::LogInOutcome;
use crate::domain::users::{self, SignUpRequest, TokenLifetime};
use crate::error::AppError;
use crate::http::body::{Body, PasswordBody, opt_object, opt_string};
use crate::http::dialect::{Call, Dialect, Failure};
use crate::rest::dates::iso_ts as ts;

/// Keys of a sign-up or update body that are not profile data.
const ACCOUNT_KEYS: &[&str] = &["email", "password", "data", "roles", "$append", "$remove"];

/// Profile data: the `data` object merged with any flat fields (both documented).
pub fn profile_of(body: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut data = opt_object(body, "data")?;
    for (k, v) in body {
        if !ACCOUNT_KEYS.contains(&k.as_str()) {
            data.insert(k.clone(), v.clone());
        }
    }
    Ok(data)
}

#[utoipa::path(post, path = "/auth-collections/signup", security(("apiKey" = [])), request_body = Object,
    summary = "Sign up (profile fields flat or under `data`); multipart: a `data` part with the JSON body and one part per file field",
    responses((status = 200, description = "`{access_token, token_type, user}` (file fields as URLs), or `{requires_2fa, message}`", body = Object), Errors<400, 401, 413, 422>))]
pub async fn signup(call: Coco, form: CocoForm) -> Result<Json<Value>> {
    let caller = &call.caller;
    let svc = call.services();
    let project = caller.project()?;
    let coll = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let mut staging = Staging::for_new_user(&svc.files, &coll);
    let body = match form_body(form, &coll, &mut staging).await {
        Ok(body) => body,
        Err(e) => {
            staging.discard().await;
            return Err(e);
        }
    };
    let req = match sign_up_request(&call, &body, &coll).await {
        Ok(req) => req,
        Err(e) => {
            staging.discard().await;
            return Err(e);
        }
    };
    let outcome = files::sign_up(svc, project, req, staging).await?;
    Ok(Json(linked_outcome(svc, outcome).await?))
}

/// `outcome_json` with the user's file fields as URLs.
async fn linked_outcome(svc: &Services, outcome: LogInOutcome) -> Result<Value> {
    let user = match &outcome {
        LogInOutcome::Complete(auth) => Some(linked_user_json(svc, &auth.user).await?),
        LogInOutcome::SecondFactorRequired(_) => None,
    };
    let mut out = outcome_json(outcome);
    if let Some(user) = user {
        out["user"] = user;
    }
    Ok(out)
}

async fn sign_up_request(
    call: &Coco,
    body: &Map<String, Value>,
    coll: &crate::domain::collections::Collection,
) -> Result<SignUpRequest> {
    let mut data = profile_of(body)?;
    urls::names_from_urls(call.services(), coll, None, &mut data).await?;
    // Self-assigned `roles` are ignored: roles are an administrator's decision.
    let client = &call.caller.client;
    Ok(PasswordBody::read(body)?.sign_up(data, client, TokenLifetime::LongLived))
}

#[utoipa::path(post, path = "/auth-collections/login", security(("apiKey" = [])), request_body = Object,
    summary = "Log in",
    responses((status = 200, description = "`{access_token, token_type, user}`, or `{requires_2fa, message}`", body = Object), Errors<401, 422>))]
pub async fn login(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let req = PasswordBody::read(&body)?.log_in(&call.caller.client, TokenLifetime::LongLived);
    let outcome = users::log_in(call.services(), call.caller.project()?, req).await?;
    Ok(Json(linked_outcome(call.services(), outcome).await?))
}

/// `/auth/register` answers in an envelope of its own:
/// `{success: false, error: {code, message}}`.
pub struct Register;

impl Dialect for Register {
    const RENDER: fn(&AppError) -> (u16, Value) = render_register;
}

fn render_register(e: &AppError) -> (u16, Value) {
    let (status, message) = match e {
        AppError::EmailExists => (409, "A user with this email already exists".to_owned()),
        AppError::InvalidEmail => (400, "Please provide a valid email address".to_owned()),
        other => (other.status(), other.public_message()),
    };
    let body = json!({"success": false, "error": {"code": e.code(), "message": message}});
    (status, body)
}

/// `POST /auth/register`: `{success, data: {user, token}}`.
#[utoipa::path(post, path = "/auth/register", security(("apiKey" = [])), request_body = Object,
    summary = "Register (`Authorization: Bearer <API key>`)",
    responses((status = 201, description = "`{success, data: {user, token}}`", body = Object), Errors<400, 409>))]
pub async fn register(
    call: Call<Register>,
    body: Body<Register>,
) -> std::result::Result<(StatusCode, Json<Value>), Failure<Register>> {
    let caller = &call.caller;
    let name = opt_string(&body, "name")?;
    let mut data = Map::new();
    if let Some(n) = &name {
        data.insert("name".into(), json!(n));
    }
    let req = PasswordBody::read(&body)?.sign_up(data, &caller.client, TokenLifetime::LongLived);
    let auth = match users::sign_up(call.services(), caller.project()?, req).await? {
        LogInOutcome::Complete(auth) => auth,
        // Only a collection requiring a second factor asks at sign-up.
        LogInOutcome::SecondFactorRequired(_) => {
            let body = json!({"success": true, "data": {"requires_2fa": true,
                "message": "A second factor is required; log in through GraphQL to enrol one"}});
            return Ok((StatusCode::OK, Json(body)));
        }
    };
    let user = json!({"id": auth.user.id, "email": auth.user.email, "name": name, "createdAt": ts(auth.user.created_at)});
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "data": {"user": user, "token": auth.token}})),
    ))
}
