//! Queries.
use async_graphql::{Context, Object};

use super::audit_types::{AuditEventConnection, AuditEventWhere};
use super::errors::GqlResult;
use super::filter::{SortDirection, UserOrder, UserWhere};
use super::types::{SessionObject, UserConnection, UserObject};
use crate::domain::access::{Caller, ListScope};
use crate::domain::filter::{Field, Filter, Sort};
use crate::domain::{Services, audit, users};
use crate::error::AppError;

#[derive(Default)]
pub struct Query;

#[Object]
impl Query {
    /// The user whose token authenticates the request.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<UserObject> {
        let caller = ctx.data::<Caller>()?;
        caller.user().cloned().map(UserObject::full).gql()
    }

    /// Everything kept about you that you may see, as one JSON document:
    /// profile, live sessions and linked sign-in identities (GDPR access).
    async fn export_me(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<async_graphql::Json<serde_json::Value>> {
        let caller = ctx.data::<Caller>()?;
        let svc = ctx.data::<Services>()?;
        let me = caller.user().gql()?;
        crate::domain::export::me(svc, me)
            .await
            .map(async_graphql::Json)
            .gql()
    }

    /// The sign-in providers of a collection (`users` by default), for
    /// `startOAuth`. Needs the project's key.
    async fn oauth_providers(
        &self,
        ctx: &Context<'_>,
        collection: Option<String>,
    ) -> async_graphql::Result<Vec<super::oauth_types::OAuthProviderObject>> {
        let caller = ctx.data::<Caller>()?;
        let svc = ctx.data::<Services>()?;
        let project = caller.project().gql()?;
        let name = collection
            .as_deref()
            .unwrap_or(crate::domain::collections::DEFAULT_COLLECTION);
        let c = svc
            .catalog
            .collection_by_name(&svc.db, &project.id, name)
            .await
            .gql()?;
        Ok(crate::domain::oauth::flow::providers(&c)
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Your live sessions, newest first.
    async fn sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SessionObject>> {
        let caller = ctx.data::<Caller>()?;
        let me = caller.user().gql()?;
        let svc = ctx.data::<Services>()?;
        let list = crate::domain::sessions::list(&svc.db, &me.id).await.gql()?;
        Ok(list.into_iter().map(SessionObject).collect())
    }

    /// The project's audit trail, newest first (secret key only): filtered by
    /// `where`, paged by `first` (at most 500, default 50) and `after`.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<AuditEventWhere>,
        first: Option<i64>,
        #[graphql(desc = "Cursor of the last event already seen")] after: Option<String>,
    ) -> async_graphql::Result<AuditEventConnection> {
        let caller = ctx.data::<Caller>()?;
        let project = caller.require_admin().gql()?;
        let svc = ctx.data::<Services>()?;
        let first = u64::try_from(first.unwrap_or(50)).unwrap_or(0);
        let filter = filter.unwrap_or_default().into();
        let page = audit::query::list(svc, &project.id, &filter, first, after.as_deref()).await;
        let (items, has_next) = page.gql()?;
        Ok(AuditEventConnection {
            items,
            has_next,
            after: after.is_some(),
        })
    }

    /// One user by id: your own record, or any record of the project with the secret key.
    async fn user(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<UserObject> {
        let caller = ctx.data::<Caller>()?;
        if let Ok(me) = caller.user() {
            if me.id == id {
                return Ok(UserObject::full(me.clone()));
            }
        }
        let project = caller.require_admin().gql()?;
        let svc = ctx.data::<Services>()?;
        users::get(&svc.db, &project.id, &id)
            .await
            .map(UserObject::full)
            .gql()
    }

    /// Users of the project (secret key or superuser): filtered by `where`,
    /// ordered by `orderBy` (newest first by default), paged by `first`/`after`
    /// or `limit`/`offset`. `totalCount` is computed only when selected.
    #[allow(clippy::too_many_arguments)]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Auth collection; all collections when omitted")] collection: Option<
            String,
        >,
        #[graphql(name = "where")] filter: Option<UserWhere>,
        order_by: Option<Vec<UserOrder>>,
        #[graphql(desc = "Page size (with `after`), at most 500")] first: Option<i64>,
        #[graphql(desc = "Cursor of the last row already seen")] after: Option<String>,
        #[graphql(desc = "Page size, at most 500 (default 50)")] limit: Option<i64>,
        offset: Option<i64>,
    ) -> async_graphql::Result<UserConnection> {
        let caller = ctx.data::<Caller>()?;
        // Administrators list everyone; a user token lists what the default rule
        // allows it to see: its own record.
        let own_only = match caller.list_scope() {
            ListScope::All => None,
            ListScope::Own(id) => Some(id),
            ListScope::Nothing => {
                return Err(caller
                    .require_admin()
                    .err()
                    .unwrap_or(AppError::Unauthenticated))
                .gql();
            }
        };
        let project = caller.project().gql()?;
        let size = first.or(limit).unwrap_or(50);
        if !(1..=users::MAX_PAGE_SIZE as i64).contains(&size) {
            return Err(AppError::validation(
                "limit",
                format!("page size must be between 1 and {}", users::MAX_PAGE_SIZE),
            ))
            .gql();
        }
        let sort = order_by
            .unwrap_or_default()
            .iter()
            .map(|o| {
                Ok(Sort {
                    field: Field::parse(&o.field)?,
                    descending: o.direction == SortDirection::Desc,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()
            .gql()?;
        let mut filter = filter
            .as_ref()
            .map(UserWhere::to_filter)
            .transpose()
            .gql()?;
        if let Some(id) = own_only {
            let own = Filter::cond(
                Field::Id,
                crate::domain::filter::Op::Eq,
                serde_json::json!(id),
            );
            filter = Some(match filter {
                Some(f) => Filter::And(vec![own, f]),
                None => own,
            });
        }
        let start = users::paging::start(after.as_deref(), offset, &sort).gql()?;
        let svc = ctx.data::<Services>()?;
        let q = users::UserQuery {
            collection,
            filter,
            sort,
            limit: size as u64,
            offset: 0,
            with_total: false,
        };
        let page = users::paging::list(&svc.db, &svc.catalog, &project.id, &q, &start)
            .await
            .gql()?;
        Ok(UserConnection {
            page,
            project_id: project.id.clone(),
            query: q,
        })
    }
}
