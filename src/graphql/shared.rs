//! Shared subscriptions: subscriptions that must compute identical answers run
//! once and fan the answer out.
//!
//! A secret key sees the whole project, so every secret-key subscription of a
//! project with the same document, operation and variables yields the same
//! responses. They share one execution (one event-bus receiver, one filter
//! evaluation, one resolution of the selection set per event) whose responses
//! are serialized once and broadcast to the members; each member only frames
//! and sends the same bytes. With 10,000 dashboards watching `usersChanged`,
//! an update is resolved and serialized once, not 10,000 times. Subscriptions whose answers depend on the subscriber (user
//! tokens: own profile, session liveness, token expiry; superuser tokens:
//! expiry) run on their own, as before.
//!
//! Backpressure is unchanged: a member that falls `GROUP_BUFFER` responses
//! behind is told and its subscription ends; the others go on.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, ErrorExtensions, Pos, Request, Response};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast;

use super::schema::AppSchema;
use crate::domain::access::Caller;
use crate::domain::events::EventBus;
use crate::error::AppError;

/// Responses a member may fall behind before it is closed.
const GROUP_BUFFER: usize = 256;

#[derive(Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    project: String,
    query: String,
    operation: Option<String>,
    variables: String,
}

struct Group {
    id: u64,
    tx: broadcast::Sender<Arc<str>>,
    members: usize,
}

type Groups = Arc<Mutex<HashMap<GroupKey, Group>>>;

/// The executor behind the GraphQL WebSocket endpoints: the schema, with
/// identical secret-key subscriptions shared.
#[derive(Clone)]
pub struct SharedExecutor {
    schema: AppSchema,
    events: EventBus,
    groups: Groups,
    next_id: Arc<AtomicU64>,
}

impl SharedExecutor {
    pub fn new(schema: AppSchema, events: EventBus) -> Self {
        Self {
            schema,
            events,
            groups: Arc::default(),
            next_id: Arc::default(),
        }
    }

    /// Live shared executions and their members (for tests and metrics).
    pub fn groups(&self) -> (usize, usize) {
        let groups = lock(&self.groups);
        (groups.len(), groups.values().map(|g| g.members).sum())
    }
}

fn lock(groups: &Groups) -> std::sync::MutexGuard<'_, HashMap<GroupKey, Group>> {
    groups.lock().unwrap_or_else(|e| e.into_inner())
}

/// Members beyond the first of each group share its one event-bus receiver;
/// the event bus counts them as subscribers too.
fn publish_shared(events: &EventBus, groups: &HashMap<GroupKey, Group>) {
    let extra = groups.values().map(|g| g.members.saturating_sub(1)).sum();
    events.set_shared_subscribers(extra);
}

/// The key under which a request may share its execution, if it may.
fn group_key(request: &Request, session: Option<&Data>) -> Option<GroupKey> {
    let caller = session?
        .get(&std::any::TypeId::of::<Caller>())?
        .downcast_ref::<Caller>()?;
    if !caller.sees_as_project() {
        return None;
    }
    let project = caller.project.as_ref()?.id.clone();
    // Only subscriptions: a query or mutation sent over the socket runs once.
    let doc = async_graphql::parser::parse_query(&request.query).ok()?;
    let op = match (&doc.operations, &request.operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name.as_str())?,
        (DocumentOperations::Multiple(_), None) => return None,
    };
    if op.node.ty != OperationType::Subscription {
        return None;
    }
    Some(GroupKey {
        project,
        query: request.query.clone(),
        operation: request.operation_name.clone(),
        variables: serde_json::to_string(&request.variables).ok()?,
    })
}

/// A response as the `payload` of a `next` message.
pub fn serialize(r: &Response) -> Arc<str> {
    serde_json::to_string(r)
        .unwrap_or_else(|_| r#"{"data":null,"errors":[{"message":"internal error"}]}"#.into())
        .into()
}

fn fell_behind() -> Arc<str> {
    let mut err = AppError::validation(
        "subscription",
        "the subscriber fell behind; subscribe again",
    )
    .extend()
    .into_server_error(Pos::default());
    // No location applies (GraphQL: then `locations` is left out).
    err.locations.clear();
    serialize(&Response::from_errors(vec![err]))
}

/// Runs a group's execution until it ends or no member is left, then removes
/// the group (if it is still this one).
async fn run_group(
    mut inner: BoxStream<'static, Response>,
    tx: broadcast::Sender<Arc<str>>,
    groups: Groups,
    events: EventBus,
    key: GroupKey,
    id: u64,
) {
    loop {
        tokio::select! {
            item = inner.next() => match item {
                Some(response) => {
                    if tx.send(serialize(&response)).is_err() {
                        break;
                    }
                }
                None => break,
            },
            _ = tx.closed() => break,
        }
    }
    let mut groups = lock(&groups);
    if groups.get(&key).is_some_and(|g| g.id == id) {
        groups.remove(&key);
        publish_shared(&events, &groups);
    }
}

/// A member's place in a group, given up on drop.
struct Membership {
    groups: Groups,
    events: EventBus,
    key: GroupKey,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut groups = lock(&self.groups);
        if let Some(g) = groups.get_mut(&self.key).filter(|g| g.id == self.id) {
            g.members = g.members.saturating_sub(1);
            if g.members == 0 {
                // Dropping the group's sender lets its execution see no member is left.
                groups.remove(&self.key);
            }
            publish_shared(&self.events, &groups);
        }
    }
}

struct Member {
    rx: broadcast::Receiver<Arc<str>>,
    done: bool,
    _membership: Membership,
}

impl SharedExecutor {
    /// Runs an operation sent over a WebSocket (a subscription, or a query or
    /// mutation answered once) and yields its responses serialized.
    pub fn subscribe(&self, request: Request, session: Arc<Data>) -> BoxStream<'static, Arc<str>> {
        let Some(key) = group_key(&request, Some(&*session)) else {
            return self
                .schema
                .execute_stream_with_session_data(request, session)
                .map(|r| serialize(&r))
                .boxed();
        };
        let mut groups = lock(&self.groups);
        let live = groups.get_mut(&key).filter(|g| g.tx.receiver_count() > 0);
        let (rx, id) = match live {
            Some(g) => {
                g.members += 1;
                (g.tx.subscribe(), g.id)
            }
            None => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = broadcast::channel(GROUP_BUFFER);
                groups.insert(
                    key.clone(),
                    Group {
                        id,
                        tx: tx.clone(),
                        members: 1,
                    },
                );
                let inner = self
                    .schema
                    .execute_stream_with_session_data(request, session);
                tokio::spawn(run_group(
                    inner,
                    tx,
                    self.groups.clone(),
                    self.events.clone(),
                    key.clone(),
                    id,
                ));
                (rx, id)
            }
        };
        publish_shared(&self.events, &groups);
        drop(groups);
        let member = Member {
            rx,
            done: false,
            _membership: Membership {
                groups: self.groups.clone(),
                events: self.events.clone(),
                key,
                id,
            },
        };
        stream::unfold(member, |mut m| async move {
            if m.done {
                return None;
            }
            match m.rx.recv().await {
                Ok(payload) => Some((payload, m)),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    m.done = true;
                    Some((fell_behind(), m))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .boxed()
    }
}
