//! urBackend: `/api/userAuth/*`, bodies `{success:false, error, code}`.
//! Refresh tokens travel in the `refreshToken` cookie, or in `x-refresh-token`
//! with `x-refresh-token-mode: header` (then the body carries the new one too).
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use super::{Fallback, TenantSlug, caller, iso_ts as ts, json_object, not_enabled, string_field};
use crate::app::AppState;
use crate::auth::extract::RequestCredentials;
use crate::domain::access::Caller;
use crate::domain::collections::DEFAULT_COLLECTION;
use crate::domain::email_codes;
use crate::domain::profile::RESERVED_KEYS;
use crate::domain::users::{
    self, AuthResult, ChangePasswordRequest, LogInRequest, SignUpRequest, TokenLifetime,
    UpdateProfileRequest, User,
};
use crate::error::AppError;

const COOKIE: &str = "refreshToken";

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
struct UsernamePath {
    username: String,
}

/// Every urBackend route.
pub fn routes() -> Router<AppState> {
    let disabled = |what: &'static str| post(move || async move { UbError(not_enabled(what)) });
    Router::new()
        .route("/api/userAuth/signup", post(signup))
        .route("/api/userAuth/login", post(login))
        .route("/api/userAuth/me", get(me))
        .route("/api/userAuth/update-profile", put(update_profile))
        .route("/api/userAuth/change-password", put(change_password))
        .route("/api/userAuth/public/{username}", get(public_profile))
        .route("/api/userAuth/logout", post(logout))
        .route("/api/userAuth/refresh-token", post(refresh_token))
        .route(
            "/api/userAuth/request-password-reset",
            post(request_password_reset),
        )
        .route("/api/userAuth/reset-password", post(reset_password))
        .route("/api/userAuth/verify-email", post(verify_email))
        .route(
            "/api/userAuth/resend-verification-otp",
            post(resend_verification_otp),
        )
        .route("/api/userAuth/social/exchange", disabled("social sign-in"))
        .route(
            "/api/userAuth/social/{provider}/start",
            get(|| async { UbError(not_enabled("social sign-in")) }),
        )
}

/// An error in urBackend's shape.
#[derive(Debug)]
pub struct UbError(pub AppError);

impl From<AppError> for UbError {
    fn from(e: AppError) -> Self {
        UbError(e)
    }
}

impl IntoResponse for UbError {
    fn into_response(self) -> Response {
        let e = self.0;
        super::log_internal(&e);
        let (status, message) = match &e {
            // urBackend answers a wrong password with 400, like other bad input.
            AppError::InvalidCredentials => (400, "Invalid email or password".to_owned()),
            AppError::EmailExists => (400, "User already exists".to_owned()),
            AppError::Unauthenticated => (401, "Authentication required".to_owned()),
            AppError::InvalidToken => (401, "Invalid or expired token".to_owned()),
            AppError::NotFound("user") => (404, "User not found".to_owned()),
            other => (other.status(), other.public_message()),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let res = (
            status,
            Json(json!({"success": false, "error": message, "code": status.as_u16()})),
        )
            .into_response();
        super::with_retry_after(&e, res)
    }
}

type Result<T> = std::result::Result<T, UbError>;

/// A user document as urBackend shows it: profile fields flat, no secrets.
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

/// Every urBackend call carries the project's key.
async fn resolve(
    state: &AppState,
    creds: &RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
) -> Result<Caller> {
    if creds.0.api_key.is_none() && slug.is_none() {
        return Err(AppError::Unauthenticated.into());
    }
    Ok(caller(state, &creds.0, slug.as_ref().map(|e| &e.0), Fallback::None).await?)
}

fn header_mode(headers: &HeaderMap) -> bool {
    headers
        .get("x-refresh-token-mode")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("header"))
}

/// The cookie path: this route family's prefix, with any `/p/{project}` kept.
fn cookie_path(uri: &OriginalUri) -> String {
    let path = uri.0.path();
    match path.find("/api/userAuth") {
        Some(i) => format!("{}/api/userAuth", &path[..i]),
        None => "/api/userAuth".into(),
    }
}

fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    match state.config.secure_cookies.as_str() {
        "always" => true,
        "never" => false,
        // `auto`: Secure only behind TLS, where the browser and `requests` send it back.
        _ => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "https"),
    }
}

fn set_cookie(value: &str, max_age: i64, path: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Max-Age={max_age}; Path={path}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie characters are URL-safe")
}

fn expires_in(secs: i64) -> String {
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// The tokens of a log-in, sign-up or refresh, with the cookie.
async fn token_response(
    state: &AppState,
    headers: &HeaderMap,
    uri: &OriginalUri,
    status: StatusCode,
    auth: &AuthResult,
    mut body: Map<String, Value>,
) -> Result<Response> {
    body.insert("token".into(), json!(auth.token));
    body.insert("accessToken".into(), json!(auth.token));
    body.insert("expiresIn".into(), json!(expires_in(auth.expires_in)));
    let refresh = auth
        .refresh_token
        .as_deref()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no refresh token")))?;
    // The body carries the refresh token in header mode, and whenever the
    // client sent its token in `x-refresh-token` (as urBackend does).
    if header_mode(headers) || headers.contains_key("x-refresh-token") {
        body.insert("refreshToken".into(), json!(refresh));
    }
    let collection = state
        .services
        .catalog
        .collection(&state.services.db, &auth.user.collection_id)
        .await?;
    let cookie = set_cookie(
        refresh,
        collection.settings.refresh_token_ttl_secs,
        &cookie_path(uri),
        secure(state, headers),
    );
    let mut res = (status, Json(Value::Object(body))).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(res)
}

async fn signup(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    uri: OriginalUri,
    bytes: Bytes,
) -> Result<Response> {
    let caller = resolve(&state, &creds, slug).await?;
    let body = json_object(&bytes)?;
    let mut data = Map::new();
    for (k, v) in &body {
        if k != "email" && k != "password" {
            data.insert(k.clone(), v.clone());
        }
    }
    let req = SignUpRequest {
        email: string_field(&body, "email")?,
        password: string_field(&body, "password")?,
        data,
        collection: None,
        client: caller.client.clone(),
        lifetime: TokenLifetime::Short,
    };
    let auth = users::sign_up(&state.services, caller.project()?, req).await?;
    let mut out = Map::new();
    out.insert("message".into(), json!("User registered successfully"));
    out.insert("userId".into(), json!(auth.user.id));
    token_response(&state, &headers, &uri, StatusCode::CREATED, &auth, out).await
}

async fn login(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    uri: OriginalUri,
    bytes: Bytes,
) -> Result<Response> {
    let caller = resolve(&state, &creds, slug).await?;
    let body = json_object(&bytes)?;
    let req = LogInRequest {
        email: string_field(&body, "email")?,
        password: string_field(&body, "password")?,
        client: caller.client.clone(),
        lifetime: TokenLifetime::Short,
        ..Default::default()
    };
    let auth = users::log_in(&state.services, caller.project()?, req).await?;
    token_response(&state, &headers, &uri, StatusCode::OK, &auth, Map::new()).await
}

/// What proves a mailbox: `{email, otp}` (the SDK) or `{token}` (the docs).
enum ProofBody {
    Token(String),
    Code { email: String, otp: String },
}

impl ProofBody {
    fn read(body: &Map<String, Value>) -> Result<Self> {
        Ok(if body.contains_key("token") {
            ProofBody::Token(string_field(body, "token")?)
        } else {
            ProofBody::Code {
                email: string_field(body, "email")?,
                otp: string_field(body, "otp")?,
            }
        })
    }

    fn proof(&self) -> email_codes::Proof<'_> {
        match self {
            ProofBody::Token(token) => email_codes::Proof::Token(token),
            ProofBody::Code { email, otp } => email_codes::Proof::Code { email, code: otp },
        }
    }
}

/// `{email}`: mails a code for `purpose`; the same `{message}` for any email.
async fn mail_code(
    state: &AppState,
    creds: &RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: &[u8],
    purpose: email_codes::Purpose,
    message: &str,
) -> Result<Json<Value>> {
    email_codes::enabled(&state.services, purpose)?;
    let caller = resolve(state, creds, slug).await?;
    let body = json_object(bytes)?;
    let email = string_field(&body, "email")?;
    let (project, client) = (caller.project()?, &caller.client);
    email_codes::request(&state.services, project, None, &email, client, purpose).await?;
    Ok(Json(json!({ "message": message })))
}

async fn resend_verification_otp(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let message = "If that email needs verifying, a verification code has been sent.";
    let purpose = email_codes::Purpose::Verification;
    mail_code(&state, &creds, slug, &bytes, purpose, message).await
}

/// `{email, otp}` (the SDK) or `{token}` (the docs).
async fn verify_email(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    email_codes::enabled(&state.services, email_codes::Purpose::Verification)?;
    let caller = resolve(&state, &creds, slug).await?;
    let body = json_object(&bytes)?;
    let proof = ProofBody::read(&body)?;
    let proof = proof.proof();
    email_codes::verify_email(
        &state.services,
        caller.project()?,
        None,
        proof,
        &caller.client,
    )
    .await?;
    Ok(Json(json!({"message": "Email verified successfully"})))
}

async fn request_password_reset(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let message = "If that email exists, a password reset code has been sent.";
    let purpose = email_codes::Purpose::PasswordReset;
    mail_code(&state, &creds, slug, &bytes, purpose, message).await
}

/// `{email, otp, newPassword}` (the SDK) or `{token, newPassword}` (the docs).
async fn reset_password(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    email_codes::enabled(&state.services, email_codes::Purpose::PasswordReset)?;
    let caller = resolve(&state, &creds, slug).await?;
    let body = json_object(&bytes)?;
    let new_password = string_field(&body, "newPassword")?;
    let proof = ProofBody::read(&body)?;
    let proof = proof.proof();
    email_codes::reset_password(
        &state.services,
        caller.project()?,
        None,
        proof,
        &new_password,
        &caller.client,
    )
    .await?;
    Ok(Json(json!({"message": "Password reset successfully"})))
}

async fn me(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    Ok(Json(user_json(caller.user()?)))
}

/// `PUT update-profile`: email, password, `_id` and other account keys are ignored.
async fn update_profile(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let me = caller.user()?;
    let body = json_object(&bytes)?;
    let data: Map<String, Value> = body
        .into_iter()
        .filter(|(k, _)| !RESERVED_KEYS.contains(&k.as_str()) && k != "isVerified")
        .collect();
    if !data.is_empty() {
        users::update_profile(
            &state.services,
            me,
            UpdateProfileRequest {
                data,
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(Json(json!({"message": "Profile updated successfully"})))
}

async fn change_password(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let me = caller.user()?;
    let body = json_object(&bytes)?;
    let req = ChangePasswordRequest {
        current_password: Some(string_field(&body, "currentPassword")?),
        new_password: string_field(&body, "newPassword")?,
        lifetime: TokenLifetime::Short,
        revoke_current_tokens: false,
    };
    users::change_password(&state.services, me, caller.session_id()?, req).await?;
    Ok(Json(json!({"message": "Password changed successfully"})))
}

/// Keys never shown on a public profile, whatever their place.
fn is_sensitive(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password", "email", "token", "otp", "secret", "session", "refresh",
    ]
    .iter()
    .any(|s| k.contains(s))
}

async fn public_profile(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(UsernamePath { username }): Path<UsernamePath>,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let project = caller.project()?;
    let collection = state
        .services
        .catalog
        .collection_by_name(&state.services.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let user = users::find_by_field(&state.services.db, &collection, "username", &username)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    // Declared public fields when the collection declares any; otherwise every
    // profile field but those that look like secrets.
    let declared_public = collection.fields.iter().any(|f| f.public);
    let mut doc = Map::new();
    doc.insert("_id".into(), json!(user.id));
    if let Some(profile) = user.data.as_object() {
        for (k, v) in profile {
            let shown = k == "username"
                || if declared_public {
                    collection.field(k).is_some_and(|f| f.public)
                } else {
                    true
                };
            if shown && !is_sensitive(k) {
                doc.insert(k.clone(), v.clone());
            }
        }
    }
    doc.insert("createdAt".into(), json!(ts(user.created_at)));
    doc.insert("updatedAt".into(), json!(ts(user.updated_at)));
    Ok(Json(Value::Object(doc)))
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == COOKIE && !v.is_empty()).then(|| v.to_owned())
        })
}

/// The refresh token: the cookie first, then `x-refresh-token`.
fn presented_refresh(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers).or_else(|| {
        headers
            .get("x-refresh-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

async fn refresh_token(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    uri: OriginalUri,
) -> Result<Response> {
    let caller = resolve(&state, &creds, slug).await?;
    let project = caller.project()?;
    let token = presented_refresh(&headers).ok_or(AppError::Unauthenticated)?;
    let auth = users::refresh(
        &state.services,
        &token,
        Some(&project.id),
        TokenLifetime::Short,
    )
    .await?;
    token_response(&state, &headers, &uri, StatusCode::OK, &auth, Map::new()).await
}

/// Ends the session of the bearer token (or of the refresh cookie) and clears the cookie.
async fn logout(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    uri: OriginalUri,
) -> Result<Response> {
    let caller = resolve(&state, &creds, slug).await?;
    match (&caller.user, &caller.session_id) {
        (Some(user), Some(sid)) => {
            users::log_out(&state.services, user, sid, false).await?;
        }
        _ => {
            let token = presented_refresh(&headers).ok_or(AppError::Unauthenticated)?;
            crate::domain::sessions::revoke_by_refresh(
                &state.services,
                &token,
                &caller.project()?.id,
            )
            .await?;
        }
    }
    let mut res =
        Json(json!({"success": true, "message": "Logged out successfully"})).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie("", 0, &cookie_path(&uri), secure(&state, &headers)),
    );
    Ok(res)
}
