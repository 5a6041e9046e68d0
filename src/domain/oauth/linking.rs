//! A signed-in user links and unlinks providers explicitly: a flow started
//! for linking records the user (`store::oauth::put_flow_link`), and only
//! that user finishes it, with `link_identity`; it never signs anyone in.
use super::flow::{self, StartRequest, Started, redeem};
use super::identities::{self, Identity};
use crate::domain::client::ClientInfo;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::error::{AppError, AppResult};

/// Starts a flow that links a provider's account of the user's collection.
pub async fn start_link(
    svc: &Services,
    user: &User,
    provider: String,
    redirect_url: String,
    client: &ClientInfo,
) -> AppResult<Started> {
    let project = svc.catalog.project(&svc.db, &user.project_id).await?;
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let req = StartRequest {
        collection: Some(collection.name),
        provider,
        redirect_url,
        link_user: Some(user.id.clone()),
        client: client.clone(),
    };
    flow::start(svc, &project, req).await
}

/// Finishes a flow started by [`start_link`] for this user: the user's
/// identities afterwards.
pub async fn link_identity(
    svc: &Services,
    user: &User,
    state: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<Vec<Identity>> {
    let project = svc.catalog.project(&svc.db, &user.project_id).await?;
    let r = redeem(svc, &project, state, code, Some(&user.id), client).await?;
    if r.collection.id != user.collection_id {
        return Err(AppError::Forbidden(
            "this flow belongs to another collection".into(),
        ));
    }
    identities::link(svc, user, &r.provider, &r.profile).await
}
