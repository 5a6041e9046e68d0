//! Subscriptions, fed by the domain's committed events (from this instance and,
//! on Postgres, from every other). Authorization is checked for every event, and
//! a subscription ends when its token expires or its session ends.
use std::time::Duration;

use async_graphql::{Context, Enum, SimpleObject, Subscription};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::errors::GqlResult;
use super::filter::UserWhere;
use super::types::UserObject;
use crate::domain::access::Caller;
use crate::domain::events::{UserEvent, UserEventKind};
use crate::domain::filter::{Field, Filter, Op};
use crate::domain::{Services, sessions, users};
use crate::error::AppError;

/// How often a quiet subscription re-checks that its session is still live.
const LIVENESS_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct Subscription;

/// One timer per subscription (not per event): fan-out to thousands of
/// subscribers stays cheap.
fn liveness_timer() -> tokio::time::Interval {
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + LIVENESS_EVERY, LIVENESS_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// What happened.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl From<UserEventKind> for ChangeKind {
    fn from(k: UserEventKind) -> Self {
        match k {
            UserEventKind::Created => ChangeKind::Created,
            UserEventKind::Updated => ChangeKind::Updated,
            UserEventKind::Deleted => ChangeKind::Deleted,
        }
    }
}

/// A committed change to a user.
#[derive(SimpleObject)]
pub struct UserChange {
    pub kind: ChangeKind,
    /// The user after the change (for deletions: its id and email).
    pub user: UserObject,
    /// Names of the changed fields, when known.
    pub changed_fields: Vec<String>,
}

/// Whether the caller's credentials still hold: token not expired, and for a
/// user token, the session live and the token version current.
async fn still_valid(svc: &Services, caller: &Caller) -> bool {
    if caller
        .token_expires_at
        .is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
    {
        return false;
    }
    let (Some(me), Some(sid)) = (&caller.user, &caller.session_id) else {
        return true;
    };
    // The same lookup and checks as `Caller::resolve`, straight from the
    // database (this runs every few seconds, not per request).
    let Ok(Some((session, current))) = sessions::with_user(&svc.db, sid).await else {
        return false;
    };
    session.user_id == me.id
        && current.token_version == me.token_version
        && !current.disabled
        && sessions::is_live(&session)
}

/// Whether a row read now is the state an event carries.
fn same_state(row: &users::User, event: &users::User) -> bool {
    row.updated_at.timestamp_micros() == event.updated_at.timestamp_micros()
        && row.data == event.data
        && row.email == event.email
}

/// The next event, or `None` when the subscription must end (credentials no
/// longer valid, or the subscriber fell behind).
async fn next_event(
    svc: &Services,
    caller: &Caller,
    rx: &mut tokio::sync::broadcast::Receiver<UserEvent>,
    tick: &mut tokio::time::Interval,
) -> Result<Option<UserEvent>, AppError> {
    loop {
        tokio::select! {
            received = rx.recv() => {
                return match received {
                    Ok(event) => Ok(Some(event)),
                    // A slow subscriber is told and closed rather than buffered without bound.
                    Err(RecvError::Lagged(_)) => Err(AppError::validation("subscription", "the subscriber fell behind; subscribe again")),
                    Err(RecvError::Closed) => Ok(None),
                };
            }
            _ = tick.tick() => {
                if !still_valid(svc, caller).await {
                    return Err(AppError::InvalidToken);
                }
            }
        }
    }
}

/// What a subscription makes of one committed event.
enum Step<T> {
    /// Not for this subscription.
    Skip,
    /// Sent to the subscriber.
    Send(T),
    /// The subscription is over.
    End,
}

/// A subscription to committed user events: which of them it sends, and as what.
trait Watch: Send + 'static {
    type Item: Send + 'static;

    /// What to do with `event`; an error is sent and ends the subscription.
    fn step(
        &mut self,
        svc: &Services,
        caller: &Caller,
        event: UserEvent,
    ) -> impl Future<Output = Result<Step<Self::Item>, AppError>> + Send;
}

/// The events committed from now on, as `each` makes of them, until it ends
/// the subscription or the caller's credentials no longer hold.
fn watch<W: Watch>(
    svc: Services,
    caller: Caller,
    mut each: W,
) -> impl Stream<Item = async_graphql::Result<W::Item>> {
    let mut rx = svc.events.subscribe();
    async_stream::stream! {
        let mut tick = liveness_timer();
        loop {
            let step = match next_event(&svc, &caller, &mut rx, &mut tick).await {
                Ok(Some(event)) => each.step(&svc, &caller, event).await,
                Ok(None) => break,
                Err(e) => Err(e),
            };
            match step {
                Ok(Step::Skip) => {}
                Ok(Step::Send(item)) => yield Ok(item),
                Ok(Step::End) => break,
                Err(e) => { yield Err(e).gql(); break; }
            }
        }
    }
}

/// `userChanged`: the caller's own record.
struct OwnProfile {
    me: String,
}

impl Watch for OwnProfile {
    type Item = UserObject;

    async fn step(
        &mut self,
        svc: &Services,
        caller: &Caller,
        event: UserEvent,
    ) -> Result<Step<UserObject>, AppError> {
        // A user exists before it can subscribe, so its creation event
        // is old news (from another instance it may arrive late).
        if event.user.id != self.me || event.kind == UserEventKind::Created {
            return Ok(Step::Skip);
        }
        if !still_valid(svc, caller).await {
            return Err(AppError::InvalidToken);
        }
        if event.kind == UserEventKind::Deleted {
            return Ok(Step::End);
        }
        Ok(Step::Send(UserObject::full(event.user)))
    }
}

/// `usersChanged`: a project's users, those matching a filter if one is given.
struct ProjectUsers {
    project_id: String,
    filter: Option<Filter>,
}

impl Watch for ProjectUsers {
    type Item = UserChange;

    async fn step(
        &mut self,
        svc: &Services,
        _caller: &Caller,
        event: UserEvent,
    ) -> Result<Step<UserChange>, AppError> {
        if event.user.project_id != self.project_id {
            return Ok(Step::Skip);
        }
        if let Some(f) = &self.filter {
            if event.kind == UserEventKind::Deleted {
                return Ok(Step::Skip);
            }
            // The filter is evaluated by the database, exactly as the
            // `users` query would, on the committed row.
            let own = Filter::cond(Field::Id, Op::Eq, serde_json::json!(event.user.id));
            let q = users::UserQuery {
                filter: Some(Filter::And(vec![own, f.clone()])),
                limit: 1,
                ..Default::default()
            };
            let page = users::query(&svc.db, &svc.catalog, &self.project_id, &q).await?;
            match page.items.first() {
                None => return Ok(Step::Skip),
                // The row has changed again since this event: the filter's
                // verdict is about a later state, which has its own event,
                // judged on its own.
                Some(row) if !same_state(row, &event.user) => return Ok(Step::Skip),
                Some(_) => {}
            }
        }
        Ok(Step::Send(UserChange {
            kind: event.kind.into(),
            changed_fields: event.changed,
            user: UserObject::full(event.user),
        }))
    }
}

#[Subscription]
impl Subscription {
    /// Your own profile after each committed change. Ends when your token
    /// expires or its session ends (log-out, password change, disabled account).
    async fn user_changed(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<UserObject>>> {
        let svc = ctx.data::<Services>()?.clone();
        let caller = ctx.data::<Caller>()?.clone();
        let me = caller.user().gql()?.id.clone();
        Ok(watch(svc, caller, OwnProfile { me }))
    }

    /// Every committed change to the project's users that matches `where`
    /// (secret key or superuser). Deletions are delivered only without `where`.
    async fn users_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<UserWhere>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<UserChange>>> {
        let svc = ctx.data::<Services>()?.clone();
        let caller = ctx.data::<Caller>()?.clone();
        let project_id = caller.require_admin().gql()?.id.clone();
        let filter = filter
            .as_ref()
            .map(UserWhere::to_filter)
            .transpose()
            .gql()?;
        if let Some(f) = &filter {
            f.validate().gql()?;
        }
        Ok(watch(svc, caller, ProjectUsers { project_id, filter }))
    }
}
