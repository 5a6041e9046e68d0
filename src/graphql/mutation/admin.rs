//! Administration of a project's users (secret key only).
use async_graphql::{Context, Object, Result};

use super::AdminMutation;
use super::call::{as_admin, as_admin_over, full_user};
use crate::domain::{sessions, users};
use crate::graphql::errors::GqlResult;
use crate::graphql::types::{UpdateMeInput, UserObject};

#[Object]
impl AdminMutation {
    /// Ends every session of a user (secret key only). Returns the number ended.
    async fn revoke_user_sessions(&self, ctx: &Context<'_>, user_id: String) -> Result<u64> {
        let (svc, user) = as_admin_over(ctx, &user_id).await?;
        let ended = sessions::revoke_all_of(svc, &user).await;
        ended.gql()
    }

    /// Changes a user's profile and files as `updateMe` does (secret key only).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: UpdateMeInput,
    ) -> Result<UserObject> {
        let (svc, user) = as_admin_over(ctx, &id).await?;
        super::files::update(ctx, svc, &user, input).await
    }

    /// Disables a user and ends its sessions at once (secret key only).
    async fn disable_user(&self, ctx: &Context<'_>, id: String) -> Result<UserObject> {
        let (svc, project) = as_admin(ctx)?;
        full_user(users::set_disabled(svc, &project.id, &id, true)).await
    }

    /// Enables a disabled user (secret key only).
    async fn enable_user(&self, ctx: &Context<'_>, id: String) -> Result<UserObject> {
        let (svc, project) = as_admin(ctx)?;
        full_user(users::set_disabled(svc, &project.id, &id, false)).await
    }
}
