//! Mutations that carry files (`signUp`, `updateMe`, `updateUser`): each
//! upload is streamed from its part into the domain's staging, which the
//! change then commits or discards, as in the REST doors.
use async_graphql::{Context, ErrorExtensions, Result};

use super::call::{full_user, log_in_outcome};
use crate::domain::Services;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::files::{self, Staging};
use crate::domain::projects::Project;
use crate::domain::users::{AccountUpdate, SignUpRequest, UpdateProfileRequest, User};
use crate::error::AppResult;
use crate::graphql::errors::GqlResult;
use crate::graphql::factor_types::LogInPayload;
use crate::graphql::file_types::FileUpload;
use crate::graphql::types::{UpdateMeInput, UserObject, object_arg};

/// The uploads for a user of `collection` (`None`: one about to be created)
/// staged; on a refused file nothing stays stored.
async fn staged(
    ctx: &Context<'_>,
    svc: &Services,
    collection: &Collection,
    user_id: Option<&str>,
    uploads: Option<Vec<FileUpload>>,
) -> Result<Staging> {
    let mut staging = match user_id {
        Some(id) => Staging::new(&svc.files, collection, id),
        None => Staging::for_new_user(&svc.files, collection),
    };
    let received: AppResult<()> = async {
        for upload in uploads.iter().flatten() {
            let (name, body) = upload.open(ctx)?;
            staging.receive(&upload.part(), &name, body).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = received {
        staging.discard().await;
        return Err(e.extend());
    }
    Ok(staging)
}

/// Signs up with the files of the input.
pub async fn sign_up(
    ctx: &Context<'_>,
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
    uploads: Option<Vec<FileUpload>>,
) -> Result<LogInPayload> {
    let name = req.collection.as_deref().unwrap_or(DEFAULT_COLLECTION);
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, name)
        .await
        .gql()?;
    let staging = staged(ctx, svc, &collection, None, uploads).await?;
    log_in_outcome(files::sign_up(svc, project, req, staging)).await
}

/// Changes `user`'s profile and files as `input` says (for itself or an administrator).
pub async fn update(
    ctx: &Context<'_>,
    svc: &Services,
    user: &User,
    input: UpdateMeInput,
) -> Result<UserObject> {
    let profile = UpdateProfileRequest {
        data: object_arg("data", input.data).gql()?,
        append: object_arg("append", input.append).gql()?,
        remove: object_arg("remove", input.remove).gql()?,
    };
    let collection = svc
        .catalog
        .collection(&svc.db, &user.collection_id)
        .await
        .gql()?;
    let staging = staged(ctx, svc, &collection, Some(&user.id), input.files).await?;
    let update = AccountUpdate::new(profile, None);
    full_user(files::update(svc, user, update, staging)).await
}
