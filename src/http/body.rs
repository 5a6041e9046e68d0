//! Request bodies: one JSON object, read once by the `Body` extractor in the
//! caller's dialect, and typed reads of its fields. Doors that take files
//! use `Form` (multipart, streamed; see `form.rs`).
use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::dialect::{Dialect, Failure};
use crate::domain::access::Caller;
use crate::domain::client::ClientInfo;
use crate::domain::email_codes::{self, Purpose};
use crate::domain::services::Services;
use crate::domain::users::{LogInRequest, SignInContext, SignUpRequest, TokenLifetime};
use crate::error::{AppError, AppResult};

/// A JSON object body (an empty body is an empty object). A multipart body,
/// a body that is not JSON or not an object is refused in the door's shape.
pub struct Body<D>(pub Map<String, Value>, PhantomData<D>);

impl<D> Body<D> {
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl<D> std::ops::Deref for Body<D> {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<S: Send + Sync, D: Dialect> FromRequest<S> for Body<D> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if is_multipart(req.headers()) {
            // Files go with sign-ups and profile updates; this request takes none.
            let e = AppError::validation("body", "this request takes a JSON body, not multipart");
            return Err(Failure::<D>::from(e).into_response());
        }
        // A body over the limit keeps the framework's 413.
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let map = json_object(&bytes).map_err(|e| Failure::<D>::from(e).into_response())?;
        Ok(Body(map, PhantomData))
    }
}

/// Parses a JSON object body; an empty body is an empty object.
pub fn json_object(body: &[u8]) -> AppResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::validation(
            "body",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(AppError::validation(
            "body",
            format!("the request body is not valid JSON: {e}"),
        )),
    }
}

/// A required string field of a body.
pub fn string_field(body: &Map<String, Value>, name: &str) -> AppResult<String> {
    match body.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => {
            Err(AppError::validation(name, format!("`{name}` is required")))
        }
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

/// An optional string field of a body.
pub fn opt_string(body: &Map<String, Value>, name: &str) -> AppResult<Option<String>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be a string"),
        )),
    }
}

/// An optional object field of a body.
pub fn opt_object(body: &Map<String, Value>, name: &str) -> AppResult<Map<String, Value>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(AppError::validation(
            name,
            format!("`{name}` must be an object"),
        )),
    }
}

/// Whether a request body is multipart (only `Form` reads one).
pub fn is_multipart(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"))
}

/// The error of a capability this server does not offer yet.
pub fn not_enabled(what: &str) -> AppError {
    AppError::Forbidden(format!("{what} is not enabled on this server"))
}

/// The `{email, password}` of a Cocobase or urBackend body, which logs in or
/// signs up in the default collection.
pub struct PasswordBody {
    email: String,
    password: String,
}

impl PasswordBody {
    pub fn read(body: &Map<String, Value>) -> AppResult<Self> {
        Ok(Self {
            email: string_field(body, "email")?,
            password: string_field(body, "password")?,
        })
    }

    /// The log-in it asks for.
    pub fn log_in(self, client: &ClientInfo, lifetime: TokenLifetime) -> LogInRequest {
        LogInRequest {
            email: self.email,
            password: self.password,
            context: SignInContext::new(client, lifetime),
            ..Default::default()
        }
    }

    /// The sign-up it asks for, with the profile `data` the door read from
    /// the body.
    pub fn sign_up(
        self,
        data: Map<String, Value>,
        client: &ClientInfo,
        lifetime: TokenLifetime,
    ) -> SignUpRequest {
        SignUpRequest {
            email: self.email,
            password: self.password,
            data,
            context: SignInContext::new(client, lifetime),
            ..Default::default()
        }
    }
}

/// Mails a code for `purpose` to the `{email}` of a body, if it has an
/// account in the default collection (Cocobase's and urBackend's). A server
/// that sends no mail says so before the body is read.
pub async fn mail_code(
    svc: &Services,
    caller: &Caller,
    body: &Map<String, Value>,
    purpose: Purpose,
) -> AppResult<()> {
    email_codes::enabled(svc, purpose)?;
    let email = string_field(body, "email")?;
    let (project, client) = (caller.project()?, &caller.client);
    email_codes::request(svc, project, None, &email, client, purpose).await?;
    Ok(())
}
