//! Sign-up, creation and account updates that carry files: the stored
//! objects are kept when the change commits and deleted when it fails.
use super::staging::Staging;
use crate::domain::collections::Collection;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::LogInOutcome;
use crate::domain::services::Services;
use crate::domain::users::account::{AccountUpdate, update_account};
use crate::domain::users::create as create_user;
use crate::domain::users::model::{SignUpRequest, User};
use crate::error::AppResult;

/// Signs up a user whose files `staging` holds.
pub async fn sign_up(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
    staging: Staging,
) -> AppResult<LogInOutcome> {
    let req = with_files(req, &staging);
    settle(create_user::sign_up(svc, project, req).await, staging).await
}

/// Creates a user whose files `staging` holds (PocketBase's record create).
pub async fn create(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
    staging: Staging,
) -> AppResult<(Collection, User)> {
    let req = with_files(req, &staging);
    settle(create_user::create(svc, project, req).await, staging).await
}

/// Applies an account update with the files `staging` holds.
pub async fn update(
    svc: &Services,
    user: &User,
    mut update: AccountUpdate,
    staging: Staging,
) -> AppResult<User> {
    update.files = staging.files().to_vec();
    settle(update_account(svc, user, update).await, staging).await
}

fn with_files(mut req: SignUpRequest, staging: &Staging) -> SignUpRequest {
    req.id = Some(staging.user_id().to_owned());
    req.files = staging.files().to_vec();
    req
}

async fn settle<T>(result: AppResult<T>, staging: Staging) -> AppResult<T> {
    match result {
        Ok(v) => {
            staging.keep();
            Ok(v)
        }
        Err(e) => {
            staging.discard().await;
            Err(e)
        }
    }
}
