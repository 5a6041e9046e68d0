//! The request an event happens in: its client and, once known, who acts.
//! The HTTP layer opens a scope per request; `Caller::resolve` notes the
//! caller. Domain functions that are handed a `ClientInfo` give it directly;
//! the others (an account change by token, an admin action) take the
//! request's, so every event carries its address and user agent.
use std::future::Future;
use std::sync::Mutex;

use crate::domain::client::ClientInfo;

/// Who acts in a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A project's secret key (its last four characters tell keys apart).
    SecretKey(String),
    /// A superuser, by id.
    Superuser(String),
    /// A user token, by user id.
    User(String),
    /// The publishable key alone, or nothing.
    Anonymous,
}

impl Actor {
    /// Whether this is an administrator of the project.
    pub fn is_admin(&self) -> bool {
        matches!(self, Actor::SecretKey(_) | Actor::Superuser(_))
    }

    /// How the detail names it (`by`).
    pub fn label(&self) -> String {
        match self {
            Actor::SecretKey(tail) => format!("secret_key:…{tail}"),
            Actor::Superuser(id) => format!("superuser:{id}"),
            Actor::User(id) => format!("user:{id}"),
            Actor::Anonymous => "anonymous".into(),
        }
    }
}

/// What the current request's scope holds.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub client: ClientInfo,
    pub actor: Option<Actor>,
}

tokio::task_local! {
    static REQUEST: Mutex<Request>;
}

/// Runs `fut` (one request) in a scope of its own with its client.
pub fn scope<F: Future>(client: ClientInfo, fut: F) -> impl Future<Output = F::Output> {
    REQUEST.scope(
        Mutex::new(Request {
            client,
            actor: None,
        }),
        fut,
    )
}

/// `fut` in a scope holding the current one's client and actor (work a
/// request leaves to a background task).
pub fn inherit<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let request = current().unwrap_or(Request {
        client: ClientInfo::default(),
        actor: None,
    });
    REQUEST.scope(Mutex::new(request), fut)
}

/// Notes who the request's caller is (outside a scope, nothing happens).
pub fn note(actor: Actor) {
    let _ = REQUEST.try_with(|r| {
        if let Ok(mut r) = r.lock() {
            r.actor = Some(actor);
        }
    });
}

/// The current request's client and actor, inside a scope.
pub(super) fn current() -> Option<Request> {
    REQUEST
        .try_with(|r| r.lock().ok().map(|r| r.clone()))
        .ok()
        .flatten()
}

/// Whether an administrator acts in the current request.
pub fn by_admin() -> bool {
    current()
        .and_then(|r| r.actor)
        .is_some_and(|a| a.is_admin())
}
