//! Bodies that may carry files: JSON as `Body` reads it, or multipart whose
//! text parts become fields and whose file parts are streamed to the
//! domain's `Staging` as they arrive (no file is held in memory whole).
//! Also the body-size limits: JSON bodies small, multipart ones larger.
use std::marker::PhantomData;

use axum::body::{Body as AxBody, Bytes};
use axum::extract::{FromRef, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::body::{is_multipart, json_object};
use super::dialect::{Dialect, Failure};
use super::state::AppState;
use crate::domain::files::staging::Staging;
use crate::error::{AppError, AppResult};

/// A JSON object or a multipart body, read by `read` once the handler knows
/// where its files go.
pub struct Form<D> {
    inner: Inner,
    /// Most bytes of text parts together.
    text_limit: usize,
    /// Most bytes of the whole body.
    upload_limit: usize,
    _dialect: PhantomData<D>,
}

enum Inner {
    Json(Map<String, Value>),
    /// `application/x-www-form-urlencoded`: text fields only (what a form
    /// sends, and what Python's `requests` sends for a file upload without files).
    Urlencoded(Vec<(String, String)>),
    Multipart(multer::Multipart<'static>),
}

/// What a multipart body held besides its files.
pub struct FormFields {
    pub fields: Map<String, Value>,
    /// Text parts as sent (strings), which the door may coerce to field types.
    pub text: Map<String, Value>,
}

impl<S, D> FromRequest<S> for Form<D>
where
    S: Send + Sync,
    D: Dialect,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let config = AppState::from_ref(state).config;
        let (text_limit, upload_limit) = (config.max_body_bytes, config.max_upload_bytes);
        if is_urlencoded(req.headers()) {
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
            let pairs = form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            return Ok(Form {
                inner: Inner::Urlencoded(pairs),
                text_limit,
                upload_limit,
                _dialect: PhantomData,
            });
        }
        if !is_multipart(req.headers()) {
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(IntoResponse::into_response)?;
            let map = json_object(&bytes).map_err(|e| Failure::<D>::from(e).into_response())?;
            return Ok(Form {
                inner: Inner::Json(map),
                text_limit,
                upload_limit,
                _dialect: PhantomData,
            });
        }
        let boundary = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| multer::parse_boundary(v).ok())
            .ok_or_else(|| {
                Failure::<D>::from(AppError::validation(
                    "body",
                    "multipart body without a boundary",
                ))
                .into_response()
            })?;
        let stream = req.into_body().into_data_stream();
        Ok(Form {
            inner: Inner::Multipart(multer::Multipart::new(stream, boundary)),
            text_limit,
            upload_limit,
            _dialect: PhantomData,
        })
    }
}

impl<D> Form<D> {
    pub fn is_multipart(&self) -> bool {
        matches!(self.inner, Inner::Multipart(_))
    }

    /// A JSON body as it is; for multipart, the text parts (a part named in
    /// `json_parts` is a JSON object merged into the fields) with every file
    /// part streamed into `staging`. Without a staging, a file part is refused.
    pub async fn read(
        self,
        mut staging: Option<&mut Staging>,
        json_parts: &[&str],
    ) -> AppResult<FormFields> {
        let mut multipart = match self.inner {
            Inner::Json(fields) => {
                return Ok(FormFields {
                    fields,
                    text: Map::new(),
                });
            }
            Inner::Urlencoded(pairs) => {
                let (mut fields, mut text) = (Map::new(), Map::new());
                for (name, value) in pairs {
                    text_field(&mut fields, &mut text, json_parts, name, value)?;
                }
                return Ok(FormFields { fields, text });
            }
            Inner::Multipart(m) => m,
        };
        let (mut fields, mut text) = (Map::new(), Map::new());
        let mut text_bytes = 0usize;
        let limit = self.upload_limit;
        let multipart_error = move |e| multipart_error(e, limit);
        while let Some(mut part) = multipart.next_field().await.map_err(multipart_error)? {
            let name = part.name().unwrap_or("").to_owned();
            if let Some(file_name) = part.file_name().map(str::to_owned) {
                if file_name.is_empty() {
                    // A form's file input left empty.
                    continue;
                }
                let Some(staging) = staging.as_deref_mut() else {
                    return Err(AppError::validation(name, "this request takes no files"));
                };
                let chunks = futures_util::stream::poll_fn(move |cx| {
                    part.poll_next_unpin(cx)
                        .map(|o| o.map(|r| r.map_err(multipart_error)))
                });
                staging.receive(&name, &file_name, Box::pin(chunks)).await?;
                continue;
            }
            let mut buf = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                text_bytes += chunk.len();
                if text_bytes > self.text_limit {
                    return Err(AppError::PayloadTooLarge(self.text_limit));
                }
                buf.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(buf)
                .map_err(|_| AppError::validation(name.clone(), "form values must be UTF-8"))?;
            text_field(&mut fields, &mut text, json_parts, name, value)?;
        }
        Ok(FormFields { fields, text })
    }
}

/// A text field: a JSON object merged into `fields` when named in
/// `json_parts`, else kept as text.
fn text_field(
    fields: &mut Map<String, Value>,
    text: &mut Map<String, Value>,
    json_parts: &[&str],
    name: String,
    value: String,
) -> AppResult<()> {
    if json_parts.contains(&name.as_str()) {
        fields.extend(json_object(value.as_bytes())?);
    } else {
        text.insert(name, Value::String(value));
    }
    Ok(())
}

fn is_urlencoded(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// A malformed multipart body is the client's error; a body over the limit is a 413.
fn multipart_error(e: multer::Error, limit: usize) -> AppError {
    if is_length_limit(&e) {
        return AppError::FileTooLarge {
            field: "body".into(),
            limit: limit as u64,
        };
    }
    AppError::validation("body", format!("malformed multipart body: {e}"))
}

/// Whether an error (or one it wraps) is `limit_bodies` cutting the body.
pub fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// What a body over its limit is told.
pub fn too_large_message(limit: usize) -> String {
    format!("the request body exceeds the limit of {limit} bytes")
}

/// The body limits: `json` bytes for every body but multipart, `upload`
/// bytes for those (each file is limited by its field as well).
#[derive(Clone, Copy)]
pub struct BodyLimits {
    pub json: usize,
    pub upload: usize,
}

impl BodyLimits {
    /// The limits the configuration sets (`max_body_bytes`, `max_upload_bytes`).
    pub fn of_config(config: &crate::config::Config) -> BodyLimits {
        BodyLimits {
            json: config.max_body_bytes,
            upload: config.max_upload_bytes,
        }
    }

    /// The limit of a request with these headers.
    pub fn of(&self, headers: &axum::http::HeaderMap) -> usize {
        if is_multipart(headers) {
            self.upload
        } else {
            self.json
        }
    }
}

/// Middleware enforcing `BodyLimits`: a declared length over the limit is a
/// 413 at once; a streamed body is cut at the limit.
pub async fn limit_bodies(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let limit = limits.of(req.headers());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        // Rendered in the caller's shape by `rejection::shape_rejections`.
        return (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response();
    }
    let req = req.map(|b| AxBody::new(http_body_util::Limited::new(b, limit)));
    next.run(req).await
}
