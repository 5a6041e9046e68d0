//! Sign-up and creation by an administrator.
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;

use entity::user;

use super::issue::*;
use super::model::*;
use crate::auth::keys;
use crate::domain::audit::{self, Kind};
use crate::domain::collections::Collection;
use crate::domain::events::{UserEvent, UserEventKind};
use crate::domain::files::changes as file_changes;
use crate::domain::files::record::{self as file_rows, Owner};
use crate::domain::limits::{self};
use crate::domain::passwords::check_policy;
use crate::domain::profile;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::{
    LogInOutcome, Method, after_first_factor, refuse_unreachable_mfa,
};
use crate::domain::services::Services;
use crate::error::AppResult;

/// Creates a user, opens its first session and returns its tokens (or, in a
/// collection that requires a second factor, a challenge to enrol one).
pub async fn sign_up(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
) -> AppResult<LogInOutcome> {
    // A new user has no challenge to answer.
    let sign_in = req.context.clone().answering(None);
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, collection_name(&req.collection))
        .await?;
    let roles: Vec<String> = NEW_USER_ROLES.iter().map(|r| (*r).to_owned()).collect();
    refuse_unreachable_mfa(svc, &collection, &roles)?;
    let (collection, user) = create(svc, project, req).await?;
    after_first_factor(svc, &collection, user, Method::Password, &sign_in).await
}

/// The roles of a new account.
const NEW_USER_ROLES: &[&str] = &["user"];

/// Creates a user without logging it in (PocketBase's record create).
pub async fn create(
    svc: &Services,
    project: &Project,
    req: SignUpRequest,
) -> AppResult<(Collection, User)> {
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, collection_name(&req.collection))
        .await?;
    limits::sign_up(svc, &req.context.client).await?;
    let client = req.context.client.clone();
    let (email, email_normalized) = normalize_email(&req.email)?;
    check_policy(&req.password, collection.settings.min_password_length)?;
    let mut data = req.data;
    if !req.files.is_empty() {
        file_changes::fold_new(&collection, &req.files, &mut data)?;
    }
    profile::check_new_profile(&collection, &data)?;
    let hash = svc.passwords.hash(&req.password).await?;
    let now = Utc::now();
    let active = user::ActiveModel {
        id: Set(req.id.unwrap_or_else(keys::new_id)),
        project_id: Set(project.id.clone()),
        collection_id: Set(collection.id.clone()),
        email: Set(email),
        email_normalized: Set(email_normalized),
        password_hash: Set(hash),
        data: Set(Value::Object(data)),
        roles: Set(serde_json::json!(NEW_USER_ROLES)),
        verified: Set(false),
        disabled: Set(false),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let model = if req.files.is_empty() {
        active
            .insert(&svc.db)
            .await
            .map_err(|e| conflict(e, &collection))?
    } else {
        // The user and its files' rows commit together, or neither does.
        let txn = crate::store::begin_write(&svc.db).await?;
        let model = active
            .insert(&txn)
            .await
            .map_err(|e| conflict(e, &collection))?;
        let owner = Owner {
            user_id: &model.id,
            project_id: &model.project_id,
            collection_id: &model.collection_id,
        };
        file_rows::record_in(&txn, &owner, &req.files, &model.data).await?;
        txn.commit().await?;
        model
    };
    let user = User::from(model);
    svc.events.publish(UserEvent {
        kind: UserEventKind::Created,
        user: user.clone(),
        changed: vec![],
    });
    // An administrator's create is an admin action; anyone else's, a sign-up.
    let kind = if audit::by_admin() {
        Kind::UserCreated
    } else {
        Kind::SignUp
    };
    audit::of(&user, kind).client(&client).save(svc).await?;
    Ok((collection, user))
}
