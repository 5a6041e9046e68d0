//! PocketBase realtime: `GET /api/realtime` opens an SSE stream whose first
//! event is `PB_CONNECT` (the SSE `id` is the client id); `POST /api/realtime`
//! sets the client's subscriptions (`users/*`, `users/RECORD_ID`, with an
//! optional `?options=…`) and binds its authorization. Each change is sent as an
//! event named exactly as subscribed, only to clients allowed to view the record
//! (`Caller::may_manage`: administrators all, users their own record).
//! Messages for one client (`@oauth2`, from the OAuth2 redirect) go through
//! its own channel, only when it subscribed to their topic.
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use axum::extract::FromRef;

use super::call::{Pb, PbBody, PbError};
use super::doc::Errors;
use super::record::record_json;
use crate::domain::access::Caller;
use crate::domain::events::UserEventKind;
use crate::error::AppError;
use crate::http::state::AppState;
use crate::metrics::{Metrics, Tracked};

/// PocketBase's routes need the realtime clients beside the shared state.
#[derive(Clone)]
pub struct PbState {
    pub app: AppState,
    pub realtime: Clients,
}

impl FromRef<PbState> for AppState {
    fn from_ref(s: &PbState) -> AppState {
        s.app.clone()
    }
}

/// Subscriptions and authorization of each connected client.
#[derive(Clone, Default)]
pub struct Clients(Arc<Mutex<HashMap<String, ClientState>>>);

#[derive(Clone)]
struct ClientState {
    subscriptions: Vec<String>,
    caller: Option<Caller>,
    /// Messages for this client alone: `(topic, data)`.
    outbox: mpsc::Sender<(String, String)>,
}

/// Messages a client's own channel holds before further ones are refused.
const OUTBOX: usize = 16;

impl Clients {
    /// Sends `data` on `topic` to the client `id`, when it is connected and
    /// subscribed to `topic` (with or without `?options=…`: the event is
    /// named as subscribed); tells whether it was.
    pub fn send_to(&self, id: &str, topic: &str, data: String) -> bool {
        let Ok(map) = self.0.lock() else { return false };
        let Some(client) = map.get(id) else {
            return false;
        };
        let mut sent = false;
        for key in &client.subscriptions {
            if key.split('?').next() == Some(topic) {
                sent |= client.outbox.try_send((key.clone(), data.clone())).is_ok();
            }
        }
        sent
    }
}

/// Most subscriptions one client may hold.
const MAX_SUBSCRIPTIONS: usize = 1000;

struct Registration {
    clients: Clients,
    id: String,
    metrics: Metrics,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut map) = self.clients.0.lock() {
            if let Some(gone) = map.remove(&self.id) {
                self.metrics
                    .subscriptions_changed(DOOR, -(gone.subscriptions.len() as i64));
            }
        }
    }
}

/// The door of these connections in the metrics.
const DOOR: &str = "pocketbase";

/// `GET /api/realtime`.
#[utoipa::path(get, path = "/api/realtime",
    summary = "Realtime: an SSE stream; the first event `PB_CONNECT` carries the client id",
    responses((status = 200, description = "An event stream: each event `{id, event, data}`", content_type = "text/event-stream", body = Object)))]
pub async fn connect(State(state): State<PbState>) -> impl IntoResponse {
    let id = crate::auth::keys::random_token(40);
    let (outbox, inbox) = mpsc::channel(OUTBOX);
    if let Ok(mut map) = state.realtime.0.lock() {
        let client = ClientState {
            subscriptions: vec![],
            caller: None,
            outbox,
        };
        map.insert(id.clone(), client);
    }
    let registration = Registration {
        clients: state.realtime.clone(),
        id: id.clone(),
        metrics: state.app.services.metrics.clone(),
    };
    let open = state.app.services.metrics.connection(DOOR);
    Sse::new(events(state, id, (registration, open), inbox))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn events(
    state: PbState,
    id: String,
    registration: (Registration, Tracked),
    mut inbox: mpsc::Receiver<(String, String)>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut rx = state.app.services.events.subscribe();
    let (shutdown, tracked) = (state.app.shutdown.clone(), state.app.shutdown.track());
    async_stream::stream! {
        let (_registration, _tracked) = (registration, tracked);
        // The stream ends when the server shuts down; the SDK reconnects.
        let mut going_away = Box::pin(async move { shutdown.begun().await });
        yield Ok(Event::default().id(id.clone()).event("PB_CONNECT").data(json!({"clientId": id}).to_string()));
        loop {
            let event = tokio::select! {
                _ = &mut going_away => break,
                own = inbox.recv() => match own {
                    Some((topic, data)) => {
                        yield Ok(Event::default().event(topic).data(data));
                        continue;
                    }
                    None => break,
                },
                event = rx.recv() => match event {
                    Ok(e) => e,
                    // A client that falls behind is disconnected (it reconnects and resubscribes).
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
                },
            };
            let client = state.realtime.0.lock().ok().and_then(|m| m.get(&id).cloned());
            let Some(client) = client else { break };
            let Some(caller) = &client.caller else { continue };
            let Ok(project) = caller.project() else { continue };
            if event.user.project_id != project.id {
                continue;
            }
            if !caller.may_manage(&event.user.id) {
                continue;
            }
            let Ok(coll) = state.app.services.catalog.collection(&state.app.services.db, &event.user.collection_id).await else { continue };
            let action = match event.kind {
                UserEventKind::Created => "create",
                UserEventKind::Updated => "update",
                UserEventKind::Deleted => "delete",
            };
            let data = json!({"action": action, "record": record_json(&event.user, &coll, true)}).to_string();
            for topic in &client.subscriptions {
                let base = topic.split('?').next().unwrap_or(topic);
                let Some((c, target)) = base.split_once('/') else { continue };
                if (c == coll.name || c == coll.id) && (target == "*" || target == event.user.id) {
                    yield Ok(Event::default().event(topic.clone()).data(data.clone()));
                }
            }
        }
    }
}

/// `POST /api/realtime` `{clientId, subscriptions}`: 204.
#[utoipa::path(post, path = "/api/realtime", request_body = Object,
    summary = "Realtime: set the client's subscriptions (`users/*`, `users/RECORD_ID`)",
    responses((status = 204, description = "Subscriptions set", body = Object), Errors<400, 404>))]
pub async fn subscribe(
    State(state): State<PbState>,
    call: Pb,
    body: PbBody,
) -> Result<StatusCode, PbError> {
    let client_id = body
        .get("clientId")
        .and_then(Value::as_str)
        .ok_or_else(|| super::call::blank("clientId"))?
        .to_owned();
    let subscriptions: Vec<String> = match body.get("subscriptions") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => {
            return Err(
                AppError::validation("subscriptions", "Must be an array of strings.").into(),
            );
        }
    };
    if subscriptions.len() > MAX_SUBSCRIPTIONS || subscriptions.iter().any(|s| s.len() > 2048) {
        return Err(
            AppError::validation("subscriptions", "Too many or too long subscriptions.").into(),
        );
    }
    let caller = call.caller;
    let mut map = state
        .realtime
        .0
        .lock()
        .map_err(|_| AppError::internal(anyhow::anyhow!("realtime registry poisoned")))?;
    let client = map
        .get_mut(&client_id)
        .ok_or(AppError::NotFound("realtime client"))?;
    let delta = subscriptions.len() as i64 - client.subscriptions.len() as i64;
    state
        .app
        .services
        .metrics
        .subscriptions_changed(DOOR, delta);
    client.subscriptions = subscriptions;
    client.caller = Some(caller);
    Ok(StatusCode::NO_CONTENT)
}
