//! GraphQL over HTTP (`POST /graphql`) and WebSocket (`GET /graphql` and
//! `/graphql/ws` with a subprotocol), and the GraphiQL page.
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::schema::{AppSchema, build_schema, request_data};
use super::shared::SharedExecutor;
use crate::domain::access::{Caller, Credentials};
use crate::http::extract::RequestCredentials;
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
    req: GraphQLRequest,
) -> Response {
    let request = req.into_inner();
    match Caller::resolve(&state.app.services, &creds).await {
        Ok(caller) => {
            let mut request = request;
            request_data(&mut request.data, &state.app.services, caller);
            GraphQLResponse::from(state.schema.execute(request).await).into_response()
        }
        Err(err) => {
            use async_graphql::ErrorExtensions;
            let error = err
                .extend()
                .into_server_error(async_graphql::Pos::default());
            let response = async_graphql::Response::from_errors(vec![error]);
            GraphQLResponse::from(response).into_response()
        }
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
    // Small per-connection buffers (tungstenite's defaults are 128 KiB each):
    // thousands of idle subscriptions must stay cheap; a client whose unsent
    // output exceeds the cap is disconnected rather than buffered without bound.
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .on_upgrade(move |socket| async move {
            // Held until the connection closes.
            let _permit = permit;
            super::ws::serve(
                socket,
                protocol,
                executor,
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
            )
            .await;
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
