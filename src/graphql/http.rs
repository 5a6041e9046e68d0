//! GraphQL over HTTP (`POST /graphql`) and WebSocket (`GET /graphql` and
//! `/graphql/ws` with a subprotocol), and the GraphiQL page.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, MultipartOptions};
use async_graphql::{Data, ParseRequestError};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::TryStreamExt;

use super::schema::{AppSchema, build_schema, request_data};
use super::shared::SharedExecutor;
use crate::domain::access::{Caller, Credentials};
use crate::domain::files::bounds::upload_bounds;
use crate::error::AppError;
use crate::http::body::is_multipart;
use crate::http::extract::RequestCredentials;
use crate::http::form::{BodyLimits, is_length_limit};
use crate::http::rejection::{graphql_content_type, graphql_error};
use crate::http::state::AppState;

/// What the GraphQL door needs beside the shared state.
#[derive(Clone)]
pub struct GraphqlState {
    pub app: AppState,
    pub schema: AppSchema,
    /// The schema as WebSocket subscriptions run it (identical ones shared).
    pub subscriptions: SharedExecutor,
    /// One permit per open WebSocket connection (`max_ws_connections`).
    pub ws_permits: Arc<tokio::sync::Semaphore>,
}

/// `/graphql` and `/graphql/ws`.
pub fn router(app: AppState) -> Router {
    let schema = build_schema(app.services.clone(), app.config.graphiql);
    let subscriptions = SharedExecutor::new(schema.clone(), app.services.events.clone());
    let ws_permits = Arc::new(tokio::sync::Semaphore::new(app.config.max_ws_connections));
    let state = GraphqlState {
        app,
        schema,
        subscriptions,
        ws_permits,
    };
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_get))
        .with_state(state)
}

async fn graphql_post(
    State(state): State<GraphqlState>,
    RequestCredentials(creds): RequestCredentials,
    req: Request,
) -> Response {
    let accept = req.headers().get(header::ACCEPT).cloned();
    let services = &state.app.services;
    let caller = match Caller::resolve(services, &creds).await {
        Ok(caller) => caller,
        Err(err) => return graphql_error(StatusCode::OK, accept.as_ref(), &err),
    };
    let project = caller.project.as_ref().map(|p| p.id.clone());
    let mut request = match read_request(&state, project.as_deref(), req).await {
        Ok(request) => request,
        Err((status, err)) => return graphql_error(status, accept.as_ref(), &err),
    };
    request_data(&mut request.data, services, caller);
    let mut response = state.schema.execute(request).await;
    let status = answer_status(&response, accept.as_ref());
    code_request_errors(&mut response);
    let mut res = GraphQLResponse::from(response).into_response();
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, graphql_content_type(accept.as_ref()));
    res
}

/// GraphQL over HTTP: a request that did not validate (errors, no data, no
/// path: nothing ran) is a 400 for a client that accepts
/// `application/graphql-response+json`; a legacy `application/json` client
/// gets 200 for every well-formed answer.
fn answer_status(r: &async_graphql::Response, accept: Option<&HeaderValue>) -> StatusCode {
    let new_type = graphql_content_type(accept) == "application/graphql-response+json";
    if new_type && is_request_error(r) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    }
}

/// Errors, no data, no path: the request did not parse or validate, nothing ran.
fn is_request_error(r: &async_graphql::Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

/// A request that did not parse or validate: async-graphql gives its errors
/// no code, so each gets `GRAPHQL_VALIDATION_FAILED` (Apollo's name for it)
/// and every error a caller reads carries a stable `extensions.code`.
fn code_request_errors(r: &mut async_graphql::Response) {
    if !is_request_error(r) {
        return;
    }
    for error in &mut r.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "GRAPHQL_VALIDATION_FAILED");
        }
    }
}

/// Reads a JSON request, or a multipart one (the GraphQL multipart request
/// spec) whose files async-graphql keeps in temporary files until the
/// resolvers stream them into storage. A file over the largest any file
/// field of the project accepts is refused while it arrives (413).
async fn read_request(
    state: &GraphqlState,
    project_id: Option<&str>,
    req: Request,
) -> Result<async_graphql::Request, (StatusCode, AppError)> {
    let config = &state.app.config;
    let body_limit = BodyLimits::of_config(config).of(req.headers());
    let mut options = MultipartOptions::default();
    if is_multipart(req.headers()) {
        let bounds = upload_bounds(&state.app.services, project_id)
            .await
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e))?;
        // The `operations` and `map` parts are limited the same way: at
        // least as much as a JSON body may hold.
        let per_part = (bounds.max_file_size as usize).max(config.max_body_bytes);
        options = options
            .max_file_size(per_part)
            .max_num_files(bounds.max_files as usize + 2);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // The body-size middleware cuts a body at its limit; the cut is a 413.
    let cut = Arc::new(AtomicBool::new(false));
    let seen = cut.clone();
    let body = req
        .into_body()
        .into_data_stream()
        .map_err(move |e| {
            if is_length_limit(&e) {
                seen.store(true, Ordering::Relaxed);
            }
            std::io::Error::other(e)
        })
        .into_async_read();
    let parsed = async_graphql::http::receive_body(content_type, body, options).await;
    parsed.map_err(|e| {
        if cut.load(Ordering::Relaxed) {
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::BodyTooLarge(body_limit),
            )
        } else {
            match e {
                ParseRequestError::PayloadTooLarge => {
                    let limit = options.max_file_size.unwrap_or_default() as u64;
                    let err = AppError::FileTooLarge {
                        field: "file".into(),
                        limit,
                    };
                    (StatusCode::PAYLOAD_TOO_LARGE, err)
                }
                other => (StatusCode::BAD_REQUEST, not_a_request(other)),
            }
        }
    })
}

/// Why a body is not a GraphQL request, in words (async-graphql's errors
/// print as Rust debug text).
fn not_a_request(e: ParseRequestError) -> AppError {
    let why = match e {
        ParseRequestError::InvalidRequest(e) => match e.downcast::<serde_json::Error>() {
            Ok(json) if json.is_data() => {
                format!("the body must be a JSON object with a string `query`: {json}")
            }
            Ok(json) => format!("the body is not valid JSON: {json}"),
            Err(e) => format!("the body could not be read: {e}"),
        },
        other => format!("the body is not a GraphQL request: {other}"),
    };
    AppError::Validation {
        field: Some("body".into()),
        message: why,
        required: false,
    }
}

/// GET: a WebSocket upgrade for subscriptions, otherwise the GraphiQL page.
async fn graphql_get(
    State(state): State<GraphqlState>,
    RequestCredentials(http_creds): RequestCredentials,
    headers: axum::http::HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let protocol = super::ws::protocol(&headers);
    let (Some(protocol), Ok(ws)) = (protocol, ws) else {
        return crate::http::assets::graphiql_page(state.app.config.graphiql, &headers);
    };
    // A bounded number of connections; beyond it a clear error, not a hang.
    let Ok(permit) = state.ws_permits.clone().try_acquire_owned() else {
        let body = serde_json::json!({"errors": [{"message": "too many WebSocket connections; try again later", "extensions": {"code": "RATE_LIMITED"}}]});
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    };
    let executor = state.subscriptions.clone();
    let ping_every = Duration::from_secs(state.app.config.ws_ping_secs);
    let services = state.app.services.clone();
    let shutdown = state.app.shutdown.clone();
    let metrics = services.metrics.clone();
    // Small per-connection buffers (tungstenite's defaults are 128 KiB each):
    // thousands of idle subscriptions must stay cheap; a client whose unsent
    // output exceeds the cap is disconnected rather than buffered without bound.
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .on_upgrade(move |socket| {
            // Events of the connection's operations carry the upgrade
            // request's client, and the caller its `connection_init` names.
            let client = http_creds.client.clone();
            crate::domain::audit::scope(client, async move {
                // Held until the connection closes.
                let (_permit, _tracked) = (permit, shutdown.track());
                let _open = metrics.connection("graphql");
                super::ws::serve(
                    socket,
                    protocol,
                    (executor, metrics),
                    ping_every,
                    move |payload| async move {
                        let mut creds = ws_credentials(&payload);
                        creds.client = http_creds.client;
                        let caller = Caller::resolve(&services, &creds)
                            .await
                            .map_err(|e| e.public_message())?;
                        let mut data = Data::default();
                        request_data(&mut data, &services, caller);
                        Ok(data)
                    },
                    async move { shutdown.begun().await },
                )
                .await;
            })
        })
        .into_response()
}

/// `connection_init` payload: `{"authorization": "Bearer …", "x-api-key": "…"}`
/// (case-insensitive keys).
fn ws_credentials(payload: &serde_json::Value) -> Credentials {
    let mut creds = Credentials::default();
    if let Some(map) = payload.as_object() {
        for (k, v) in map {
            let Some(v) = v.as_str() else { continue };
            match k.to_ascii_lowercase().as_str() {
                "authorization" => creds.authorization = Some(v.to_owned()),
                "x-api-key" | "apikey" | "api_key" => creds.api_key = Some(v.to_owned()),
                _ => {}
            }
        }
    }
    creds
}
