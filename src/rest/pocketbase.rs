//! PocketBase: `/api/collections/{collection}/…` for auth collections and
//! `_superusers`, records with profile fields flat, errors
//! `{status, message, data: {field: {code, message}}}`. Default rules: create is
//! open; view, update and delete only the own record; list only the own record
//! unless superuser. No key: the project comes from `/p/{project}` or is `default`.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use super::QueryParams;
use super::{Fallback, TenantSlug, caller, json_object, not_enabled, pb_filter};
use crate::app::AppState;
use crate::auth::extract::RequestCredentials;
use crate::auth::keys::KeyKind;
use crate::domain::access::Caller;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::email_codes;
use crate::domain::filter::{Field, Filter, Op};
use crate::domain::sessions::ClientInfo;
use crate::domain::superusers::{self, Superuser};
use crate::domain::users::{
    self, ChangePasswordRequest, LogInRequest, SignUpRequest, TokenLifetime, UpdateProfileRequest,
    User, UserQuery,
};
use crate::error::AppError;

const SUPERUSERS: &str = "_superusers";

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
struct CollPath {
    c: String,
}

#[derive(serde::Deserialize)]
struct RecordPath {
    c: String,
    id: String,
}
const SUPERUSERS_ID: &str = "pbc_3142635823";

/// Every PocketBase route.
pub fn routes() -> Router<AppState> {
    let disabled = |what: &'static str| post(move || async move { PbError(not_enabled(what)) });
    Router::new()
        .route(
            "/api/health",
            get(|| async { Json(json!({"code": 200, "message": "API is healthy.", "data": {}})) }),
        )
        .route("/api/collections/{c}/auth-methods", get(auth_methods))
        .route(
            "/api/collections/{c}/auth-with-password",
            post(auth_with_password),
        )
        .route("/api/collections/{c}/auth-refresh", post(auth_refresh))
        .route(
            "/api/collections/{c}/records",
            get(list_records).post(create_record),
        )
        .route(
            "/api/collections/{c}/records/{id}",
            get(view_record).patch(update_record).delete(delete_record),
        )
        .route("/api/collections/{c}/request-otp", post(request_otp))
        .route("/api/collections/{c}/auth-with-otp", post(auth_with_otp))
        .route(
            "/api/collections/{c}/auth-with-oauth2",
            disabled("OAuth2 authentication"),
        )
        .route(
            "/api/collections/{c}/request-password-reset",
            post(request_password_reset),
        )
        .route(
            "/api/collections/{c}/confirm-password-reset",
            post(confirm_password_reset),
        )
        .route(
            "/api/collections/{c}/request-verification",
            post(request_verification),
        )
        .route(
            "/api/collections/{c}/confirm-verification",
            post(confirm_verification),
        )
        .route(
            "/api/collections/{c}/request-email-change",
            post(request_email_change),
        )
        .route(
            "/api/collections/{c}/confirm-email-change",
            post(confirm_email_change),
        )
        .route(
            "/api/collections/{c}/impersonate/{id}",
            disabled("impersonation"),
        )
        .route(
            "/api/realtime",
            get(super::pb_realtime::connect).post(super::pb_realtime::subscribe),
        )
        .route("/api/files/token", disabled("file access"))
}

/// An error in PocketBase's shape.
#[derive(Debug)]
pub struct PbError(pub AppError);

impl From<AppError> for PbError {
    fn from(e: AppError) -> Self {
        PbError(e)
    }
}

fn field_error(field: &str, code: &str, message: &str) -> Value {
    json!({ field: {"code": code, "message": message} })
}

impl IntoResponse for PbError {
    fn into_response(self) -> Response {
        let e = self.0;
        super::log_internal(&e);
        let (status, message, data) = match &e {
            AppError::InvalidCredentials => (400, "Failed to authenticate.".to_owned(), json!({})),
            AppError::EmailExists => (
                400,
                "Failed to create record.".to_owned(),
                field_error("email", "validation_not_unique", "Value must be unique."),
            ),
            AppError::Conflict(f) => (
                400,
                "Failed to save record.".to_owned(),
                field_error(f, "validation_not_unique", "Value must be unique."),
            ),
            AppError::InvalidEmail => (
                400,
                "Failed to save record.".to_owned(),
                field_error(
                    "email",
                    "validation_is_email",
                    "Must be a valid email address.",
                ),
            ),
            AppError::WeakPassword(m) => (
                400,
                "Failed to save record.".to_owned(),
                field_error("password", "validation_length_out_of_range", m),
            ),
            AppError::Validation { field, message } => {
                let data = match field {
                    Some(f) if message == "Cannot be blank." => {
                        field_error(f, "validation_required", message)
                    }
                    Some(f) => field_error(f, &validation_code(f), message),
                    None => json!({}),
                };
                (400, message.clone(), data)
            }
            AppError::Unauthenticated | AppError::InvalidToken => (
                401,
                "The request requires valid record authorization token.".to_owned(),
                json!({}),
            ),
            AppError::NotFound(_) => (
                404,
                "The requested resource wasn't found.".to_owned(),
                json!({}),
            ),
            AppError::RateLimited { .. } => (429, "Too Many Requests.".to_owned(), json!({})),
            other => (other.status(), other.public_message(), json!({})),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let res = (
            status,
            Json(json!({"status": status.as_u16(), "message": message, "data": data})),
        )
            .into_response();
        super::with_retry_after(&e, res)
    }
}

fn validation_code(field: &str) -> String {
    match field {
        "passwordConfirm" => "validation_values_mismatch".into(),
        "oldPassword" => "validation_invalid_old_password".into(),
        _ => "validation_invalid_value".into(),
    }
}

type Result<T> = std::result::Result<T, PbError>;

/// PocketBase's date format: `2026-11-21 22:39:59.705Z`.
pub fn pb_date(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than through a format string, which chrono parses on
    // every call (it showed in the list profile: two dates per record).
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond().min(999_999_999) / 1_000_000
    )
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn dates_are_written_as_pocketbase_writes_them() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678901Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(super::pb_date(t), "2026-01-02 03:04:05.678Z");
        assert_eq!(
            super::pb_date(t),
            t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string()
        );
    }
}

/// A user as a PocketBase record. The email is shown to its owner, to
/// superusers, or when the user made it visible.
pub fn record_json(u: &User, c: &Collection, show_email: bool) -> Value {
    let mut r = Map::new();
    // Declared fields are always present, with PocketBase's empty values.
    for f in &c.fields {
        let empty = match (f.field_type, f.many) {
            (FieldType::Number, _) => json!(0),
            (FieldType::Bool, _) => json!(false),
            (FieldType::Json, _) => Value::Null,
            (FieldType::Relation, true) => json!([]),
            _ => json!(""),
        };
        r.insert(f.name.clone(), empty);
    }
    let mut visible = false;
    if let Some(profile) = u.data.as_object() {
        for (k, v) in profile {
            if k == "emailVisibility" {
                visible = v.as_bool().unwrap_or(false);
                continue;
            }
            r.insert(k.clone(), v.clone());
        }
    }
    r.insert("id".into(), json!(u.id));
    r.insert("collectionId".into(), json!(c.id));
    r.insert("collectionName".into(), json!(c.name));
    r.insert("created".into(), json!(pb_date(u.created_at)));
    r.insert("updated".into(), json!(pb_date(u.updated_at)));
    if show_email || visible {
        r.insert("email".into(), json!(u.email));
    }
    r.insert("emailVisibility".into(), json!(visible));
    r.insert("verified".into(), json!(u.verified));
    Value::Object(r)
}

fn superuser_json(su: &Superuser) -> Value {
    json!({
        "id": su.id,
        "collectionId": SUPERUSERS_ID,
        "collectionName": SUPERUSERS,
        "email": su.email,
        "emailVisibility": false,
        "verified": true,
        "created": pb_date(su.created_at),
        "updated": pb_date(su.updated_at),
    })
}

/// As PocketBase does, an invalid or outdated token makes the request a guest's
/// (a later authentication in the same client still sends its old token).
pub(super) async fn resolve(
    state: &AppState,
    creds: &RequestCredentials,
    slug: &Option<Extension<TenantSlug>>,
) -> Result<Caller> {
    let slug = slug.as_ref().map(|e| &e.0);
    match caller(state, &creds.0, slug, Fallback::DefaultProject).await {
        Err(AppError::InvalidToken | AppError::AccountDisabled) => {
            let mut guest = creds.0.clone();
            guest.authorization = None;
            Ok(caller(state, &guest, slug, Fallback::DefaultProject).await?)
        }
        other => Ok(other?),
    }
}

async fn collection(state: &AppState, caller: &Caller, key: &str) -> Result<Collection> {
    Ok(state
        .services
        .catalog
        .collection_by_name_or_id(&state.services.db, &caller.project()?.id, key)
        .await?)
}

fn body(headers: &HeaderMap, bytes: &[u8]) -> Result<Map<String, Value>> {
    if super::is_multipart(headers) {
        return Err(not_enabled("file upload").into());
    }
    Ok(json_object(bytes)?)
}

async fn auth_methods(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
) -> Result<Json<Value>> {
    let mut identity_fields = vec!["email".to_owned()];
    if c != SUPERUSERS {
        let caller = resolve(&state, &creds, &slug).await?;
        let coll = collection(&state, &caller, &c).await?;
        identity_fields.extend(
            coll.fields
                .iter()
                .filter(|f| f.unique && f.field_type == FieldType::Text)
                .map(|f| f.name.clone()),
        );
    }
    Ok(Json(json!({
        "password": {"enabled": true, "identityFields": identity_fields},
        "oauth2": {"enabled": false, "providers": []},
        "mfa": {"enabled": false, "duration": 0},
        "otp": {"enabled": false, "duration": 0},
    })))
}

/// `{email}` → `{otpId}`, an id whether or not a code was sent.
async fn request_otp(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let purpose = email_codes::Purpose::LogIn;
    let CodeCall { caller, coll, body } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let email = required(&body, "email")?;
    let project = caller.project()?;
    let id = email_codes::request_login_code(
        &state.services,
        project,
        Some(&coll.name),
        email,
        &caller.client,
    )
    .await?;
    Ok(Json(json!({ "otpId": id })))
}

/// `{otpId, password}` (the mailed code) → `{token, record}`.
async fn auth_with_otp(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let purpose = email_codes::Purpose::LogIn;
    let CodeCall { caller, coll, body } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let (otp_id, code) = (required(&body, "otpId")?, required(&body, "password")?);
    let project = caller.project()?;
    let auth = email_codes::log_in_with_code(
        &state.services,
        project,
        otp_id,
        code,
        &caller.client,
        TokenLifetime::LongLived,
    )
    .await?;
    // The record as its own collection describes it (the code names the user).
    let coll = if auth.user.collection_id == coll.id {
        coll
    } else {
        state
            .services
            .catalog
            .collection(&state.services.db, &auth.user.collection_id)
            .await?
    };
    Ok(Json(
        json!({"token": auth.token, "record": record_json(&auth.user, &coll, true)}),
    ))
}

async fn auth_with_password(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let body = body(&headers, &bytes)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let identity =
        text("identity").ok_or_else(|| AppError::validation("identity", "Cannot be blank."))?;
    let password =
        text("password").ok_or_else(|| AppError::validation("password", "Cannot be blank."))?;
    if c == SUPERUSERS {
        let (token, su) =
            superusers::log_in(&state.services, &identity, &password, &creds.0.client).await?;
        return Ok(Json(json!({"token": token, "record": superuser_json(&su)})));
    }
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
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
        client: caller.client.clone(),
        lifetime: TokenLifetime::LongLived,
    };
    let auth = users::log_in(&state.services, caller.project()?, req).await?;
    Ok(Json(
        json!({"token": auth.token, "record": record_json(&auth.user, &coll, true)}),
    ))
}

async fn auth_refresh(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, &slug).await?;
    if c == SUPERUSERS {
        let id = caller
            .superuser
            .as_deref()
            .ok_or(AppError::Unauthenticated)?;
        let su = superusers::get(&state.services.db, id).await?;
        let token = superusers::issue_token(&state.services, &su)?;
        return Ok(Json(json!({"token": token, "record": superuser_json(&su)})));
    }
    let coll = collection(&state, &caller, &c).await?;
    let me = caller.user()?;
    if me.collection_id != coll.id {
        return Err(AppError::Unauthenticated.into());
    }
    let auth = users::reissue(
        &state.services,
        me,
        caller.session_id()?,
        TokenLifetime::LongLived,
    )
    .await?;
    Ok(Json(
        json!({"token": auth.token, "record": record_json(&auth.user, &coll, true)}),
    ))
}

/// Record keys the server owns; clients echo them back and they are ignored.
const SYSTEM_KEYS: &[&str] = &[
    "id",
    "collectionId",
    "collectionName",
    "created",
    "updated",
    "expand",
    "verified",
    "tokenKey",
];
const PASSWORD_KEYS: &[&str] = &["password", "passwordConfirm", "oldPassword"];

fn profile_fields(body: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut data = Map::new();
    for (k, v) in body {
        if SYSTEM_KEYS.contains(&k.as_str()) || PASSWORD_KEYS.contains(&k.as_str()) || k == "email"
        {
            continue;
        }
        if k == "emailVisibility" && !v.is_boolean() {
            return Err(AppError::validation("emailVisibility", "Must be a boolean.").into());
        }
        data.insert(k.clone(), v.clone());
    }
    Ok(data)
}

/// What a handler of codes sent by email starts from: the caller, the
/// collection the path names and the JSON body.
struct CodeCall {
    caller: Caller,
    coll: Collection,
    body: Map<String, Value>,
}

/// Reads a `CodeCall`, after checking that this server sends mail, so one
/// without it answers "not enabled" before anything else.
async fn code_call(
    state: &AppState,
    creds: &RequestCredentials,
    slug: &Option<Extension<TenantSlug>>,
    c: &str,
    headers: &HeaderMap,
    bytes: &[u8],
    purpose: email_codes::Purpose,
) -> Result<CodeCall> {
    email_codes::enabled(&state.services, purpose)?;
    let caller = resolve(state, creds, slug).await?;
    let coll = collection(state, &caller, c).await?;
    let body = body(headers, bytes)?;
    Ok(CodeCall { caller, coll, body })
}

/// `{email}` → `204`, whether or not the email has an account (for
/// verification: an unverified one).
async fn request_code(
    call: CodeCall,
    state: &AppState,
    purpose: email_codes::Purpose,
) -> Result<StatusCode> {
    let CodeCall { caller, coll, body } = call;
    let email = required(&body, "email")?;
    let project = caller.project()?;
    let (name, client) = (Some(coll.name.as_str()), &caller.client);
    email_codes::request(&state.services, project, name, email, client, purpose).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn request_password_reset(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::PasswordReset;
    let call = code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    request_code(call, &state, purpose).await
}

async fn request_verification(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::Verification;
    let call = code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    request_code(call, &state, purpose).await
}

/// `{token}` → `204`.
async fn confirm_verification(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::Verification;
    let CodeCall { caller, coll, body } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let token = required(&body, "token")?;
    let project = caller.project()?;
    let proof = email_codes::Proof::Token(token);
    email_codes::verify_email(
        &state.services,
        project,
        Some(&coll.name),
        proof,
        &caller.client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's `{newEmail}` → `204`; the new address gets the token.
async fn request_email_change(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::EmailChange;
    let CodeCall { caller, coll, body } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let me = caller.user()?;
    if me.collection_id != coll.id {
        return Err(AppError::Forbidden("the token is not of this collection".into()).into());
    }
    let new_email = required(&body, "newEmail")?;
    email_codes::request_email_change(&state.services, me, new_email).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{token, password}` → `204`: the account moves to the new address.
async fn confirm_email_change(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::EmailChange;
    let CodeCall { caller, body, .. } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let (token, password) = (required(&body, "token")?, required(&body, "password")?);
    let project = caller.project()?;
    email_codes::confirm_email_change(&state.services, project, token, password, &caller.client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{token, password, passwordConfirm}` → `204`.
async fn confirm_password_reset(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<StatusCode> {
    let purpose = email_codes::Purpose::PasswordReset;
    let CodeCall { caller, coll, body } =
        code_call(&state, &creds, &slug, &c, &headers, &bytes, purpose).await?;
    let token = required(&body, "token")?;
    let password = confirm_password(&body)?
        .ok_or_else(|| AppError::validation("password", "Cannot be blank."))?;
    let project = caller.project()?;
    let proof = email_codes::Proof::Token(token);
    email_codes::reset_password(
        &state.services,
        project,
        Some(&coll.name),
        proof,
        &password,
        &caller.client,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A non-empty string field, or PocketBase's "Cannot be blank." for it.
fn required<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AppError::validation(key, "Cannot be blank.").into())
}

fn confirm_password(body: &Map<String, Value>) -> Result<Option<String>> {
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    match (text("password"), text("passwordConfirm")) {
        (None, None) => Ok(None),
        (Some(p), Some(c)) if p == c => Ok(Some(p.to_owned())),
        (Some(_), None) => Err(AppError::validation("passwordConfirm", "Cannot be blank.").into()),
        _ => Err(AppError::validation("passwordConfirm", "Values don't match.").into()),
    }
}

async fn create_record(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    if c == SUPERUSERS {
        return Err(AppError::Forbidden(
            "superusers are created with `authgraph superuser upsert`".into(),
        )
        .into());
    }
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
    let body = body(&headers, &bytes)?;
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| AppError::validation("email", "Cannot be blank."))?;
    let password = confirm_password(&body)?
        .ok_or_else(|| AppError::validation("password", "Cannot be blank."))?;
    let req = SignUpRequest {
        email: email.to_owned(),
        password,
        data: profile_fields(&body)?,
        collection: Some(coll.name.clone()),
        // An administrator's creations are not sign-ups: its address is not
        // counted against the sign-up limit.
        client: if caller.superuser.is_some() || caller.key == Some(KeyKind::Secret) {
            ClientInfo::default()
        } else {
            caller.client.clone()
        },
        lifetime: TokenLifetime::LongLived,
    };
    let (_, user) = users::create(&state.services, caller.project()?, req).await?;
    Ok(Json(record_json(&user, &coll, caller.superuser.is_some())))
}

/// The record the caller may act on: its own, or any for a superuser. Others
/// are reported as missing, as PocketBase does.
async fn target(state: &AppState, caller: &Caller, coll: &Collection, id: &str) -> Result<User> {
    if caller.superuser.is_some() {
        let user = users::get(&state.services.db, &caller.project()?.id, id).await?;
        if user.collection_id == coll.id {
            return Ok(user);
        }
    } else if let Some(me) = &caller.user {
        if me.id == id && me.collection_id == coll.id {
            return Ok(me.clone());
        }
    }
    Err(AppError::NotFound("record").into())
}

async fn view_record(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(RecordPath { c, id }): Path<RecordPath>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
    let user = target(&state, &caller, &coll, &id).await?;
    let mut records = vec![record_json(&user, &coll, true)];
    let params = QueryParams::parse(raw.as_deref());
    expand(
        &state,
        &caller,
        &coll,
        &mut records,
        params.last("expand").unwrap_or(""),
    )
    .await?;
    select_fields(&mut records, params.last("fields"));
    Ok(Json(records.pop().expect("one record")))
}

/// `fields=id,name,expand.following`: keeps only the named keys (`*` keeps all).
fn select_fields(records: &mut [Value], fields: Option<&str>) {
    let Some(fields) = fields.filter(|f| !f.trim().is_empty()) else {
        return;
    };
    let names: Vec<&str> = fields
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if names.contains(&"*") {
        return;
    }
    for r in records.iter_mut() {
        if let Some(obj) = r.as_object_mut() {
            obj.retain(|k, _| {
                names
                    .iter()
                    .any(|n| n == k || (k == "expand" && n.starts_with("expand")))
            });
            if let Some(Value::Object(expanded)) = obj.get_mut("expand") {
                let wanted: Vec<&str> = names
                    .iter()
                    .filter_map(|n| n.strip_prefix("expand."))
                    .collect();
                if !wanted.contains(&"*") && !names.contains(&"expand") {
                    expanded.retain(|k, _| {
                        wanted
                            .iter()
                            .any(|w| w.split('.').next() == Some(k.as_str()))
                    });
                }
            }
        }
    }
}

/// Most nested levels `expand` follows, as in PocketBase.
const MAX_EXPAND_DEPTH: usize = 6;

/// Fills `record.expand.<relation>` for `expand=a,b.c`, one query per level.
/// Related records appear only where the caller may view them (superusers:
/// all; users: their own record).
async fn expand(
    state: &AppState,
    caller: &Caller,
    coll: &Collection,
    records: &mut [Value],
    param: &str,
) -> Result<()> {
    let paths: Vec<Vec<String>> = param
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').map(str::to_owned).collect())
        .collect();
    let mut tree = ExpandTree::default();
    for path in &paths {
        if path.len() > MAX_EXPAND_DEPTH
            || path
                .iter()
                .any(|seg| crate::domain::profile::check_key(seg).is_err())
        {
            return Err(AppError::validation(
                "expand",
                format!("cannot expand `{}`", path.join(".")),
            )
            .into());
        }
        let mut node = &mut tree;
        for seg in path {
            node = node.0.entry(seg.clone()).or_default();
        }
    }
    expand_tree(state, caller, coll, records, &tree).await
}

/// `expand=a.b,a.c` as a tree: `a` is loaded once, then `b` and `c` on it.
#[derive(Default)]
struct ExpandTree(std::collections::BTreeMap<String, ExpandTree>);

async fn expand_tree(
    state: &AppState,
    caller: &Caller,
    coll: &Collection,
    records: &mut [Value],
    tree: &ExpandTree,
) -> Result<()> {
    let project_id = caller.project()?.id.clone();
    for (field, subtree) in &tree.0 {
        let ids_of = |r: &Value| users::relation_ids(r, field);
        let mut wanted: Vec<String> = records.iter().flat_map(ids_of).collect();
        wanted.sort();
        wanted.dedup();
        let may_view = |id: &str| {
            caller.superuser.is_some() || caller.user.as_ref().is_some_and(|u| u.id == id)
        };
        wanted.retain(|id| may_view(id));
        let found = users::get_many(&state.services.db, &project_id, &wanted).await?;
        for r in records.iter_mut() {
            let ids = ids_of(r);
            let many = r.get(field.as_str()).is_some_and(Value::is_array);
            let mut related: Vec<Value> = ids
                .iter()
                .filter_map(|id| found.get(id))
                .map(|u| record_json(u, coll, true))
                .collect();
            if related.is_empty() {
                continue;
            }
            if !subtree.0.is_empty() {
                Box::pin(expand_tree(state, caller, coll, &mut related, subtree)).await?;
            }
            let value = if many {
                Value::Array(related)
            } else {
                related.swap_remove(0)
            };
            let slot = r
                .as_object_mut()
                .expect("records are objects")
                .entry("expand")
                .or_insert_with(|| json!({}));
            slot[field.as_str()] = value;
        }
    }
    Ok(())
}

async fn update_record(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(RecordPath { c, id }): Path<RecordPath>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
    let user = target(&state, &caller, &coll, &id).await?;
    let body = body(&headers, &bytes)?;
    if let Some(email) = body.get("email").and_then(Value::as_str) {
        if !email.trim().eq_ignore_ascii_case(&user.email) {
            return Err(AppError::validation(
                "email",
                "Use request-email-change to change the email address.",
            )
            .into());
        }
    }
    let new_password = confirm_password(&body)?;
    let old_password = body
        .get("oldPassword")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let is_admin = caller.superuser.is_some();
    if new_password.is_some() && !is_admin && old_password.is_none() {
        return Err(AppError::validation("oldPassword", "Missing or invalid old password.").into());
    }
    let data = profile_fields(&body)?;
    let mut updated = user.clone();
    if let Some(pw) = &new_password {
        // Checked before any change, so a weak password changes nothing.
        crate::auth::password::check_policy(pw, coll.settings.min_password_length)?;
        if let Some(old) = &old_password {
            let ok = users::verify_password(&state.services, &user, old).await?;
            if !ok {
                return Err(AppError::validation(
                    "oldPassword",
                    "Missing or invalid old password.",
                )
                .into());
            }
        }
    }
    if !data.is_empty() {
        updated = users::update_profile(
            &state.services,
            &user,
            UpdateProfileRequest {
                data,
                ..Default::default()
            },
        )
        .await?;
    }
    if let Some(pw) = new_password {
        // As in PocketBase, every earlier token of the record stops working.
        let req = ChangePasswordRequest {
            current_password: None,
            new_password: pw,
            lifetime: TokenLifetime::LongLived,
            revoke_current_tokens: true,
        };
        updated = users::change_password(&state.services, &updated, "", req)
            .await?
            .user;
    }
    Ok(Json(record_json(&updated, &coll, true)))
}

async fn delete_record(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(RecordPath { c, id }): Path<RecordPath>,
) -> Result<StatusCode> {
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
    let user = target(&state, &caller, &coll, &id).await?;
    users::delete(&state.services, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_records(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(CollPath { c }): Path<CollPath>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, &slug).await?;
    let coll = collection(&state, &caller, &c).await?;
    let params = QueryParams::parse(raw.as_deref());
    let get = |k: &str| params.last(k);
    let number = |k: &str, default: u64| -> Result<u64> {
        match get(k) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::validation(k, "Must be a positive integer.").into()),
        }
    };
    let page = number("page", 1)?;
    // The SDK's getFullList stops when a page is shorter than `perPage`, so the
    // echoed value is the one actually used.
    let per_page = number("perPage", 30)?.min(users::MAX_PAGE_SIZE);
    let skip_total = matches!(get("skipTotal"), Some("1" | "true"));
    let auth_id = caller.user.as_ref().map(|u| u.id.as_str());
    let mut parts: Vec<Filter> = Vec::new();
    if let Some(f) = pb_filter::parse(get("filter").unwrap_or(""), auth_id)? {
        parts.push(f);
    }
    let sort = pb_filter::parse_sort(get("sort").unwrap_or(""))?;
    // The default list rule: superusers see every record, users their own.
    let visible = if caller.superuser.is_some() {
        true
    } else if let Some(me) = caller.user.as_ref().filter(|u| u.collection_id == coll.id) {
        parts.push(Filter::cond(Field::Id, Op::Eq, json!(me.id)));
        true
    } else {
        false
    };
    let (items, total) = if visible {
        let q = UserQuery {
            collection: Some(coll.name.clone()),
            filter: if parts.is_empty() {
                None
            } else {
                Some(Filter::And(parts))
            },
            sort,
            limit: per_page,
            offset: (page - 1).saturating_mul(per_page),
            with_total: !skip_total,
        };
        let result = users::query(
            &state.services.db,
            &state.services.catalog,
            &caller.project()?.id,
            &q,
        )
        .await?;
        (result.items, result.total)
    } else {
        (vec![], Some(0))
    };
    let mut items: Vec<Value> = items.iter().map(|u| record_json(u, &coll, true)).collect();
    expand(
        &state,
        &caller,
        &coll,
        &mut items,
        get("expand").unwrap_or(""),
    )
    .await?;
    select_fields(&mut items, get("fields"));
    let (total_items, total_pages) = match total {
        Some(t) if !skip_total => (t as i64, t.div_ceil(per_page) as i64),
        _ => (-1, -1),
    };
    Ok(Json(json!({
        "page": page,
        "perPage": per_page,
        "totalItems": total_items,
        "totalPages": total_pages,
        "items": items,
    })))
}
