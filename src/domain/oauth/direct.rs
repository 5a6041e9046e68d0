//! Sign-ins whose provider step the client did itself (Cocobase's SDK): a
//! Google ID token to check, or a GitHub code to redeem without PKCE. The
//! collection's provider of that kind is used; none configured: "not enabled".
use super::config::{OAuth2Decl, ProviderKind};
use super::flow::{Finished, allowed_redirect, complete, exchange_code};
use crate::auth::oauth::any::AnyProvider;
use crate::domain::client::ClientInfo;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::limits;
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::domain::users::model::SignInContext;
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod::OAuth;
use crate::metrics::AuthOutcome;

/// After the OAuth rate limit, the default collection and its provider of `kind`.
async fn provider_of(
    svc: &Services,
    project: &Project,
    kind: ProviderKind,
    what: &str,
    client: &ClientInfo,
) -> AppResult<(Collection, OAuth2Decl)> {
    limits::oauth(svc, client).await?;
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let decl = collection
        .settings
        .oauth2
        .iter()
        .find(|p| p.provider == kind)
        .cloned()
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "{what} is not enabled on this server (no {what} provider in the collection's [[collections.oauth2]])"
            ))
        })?;
    Ok((collection, decl))
}

/// What the client brings from its own provider step.
pub enum Direct<'a> {
    /// An ID token from the collection's Google provider.
    GoogleIdToken(&'a str),
    /// A GitHub code the client obtained for `redirect_url` (one of the
    /// provider's `redirect_urls`).
    GithubCode {
        code: &'a str,
        redirect_url: &'a str,
    },
}

/// Signs in with what the client brought from the collection's provider of
/// that kind.
pub async fn sign_in(
    svc: &Services,
    project: &Project,
    step: Direct<'_>,
    context: &SignInContext,
) -> AppResult<Finished> {
    let (kind, what) = match step {
        Direct::GoogleIdToken(_) => (ProviderKind::Google, "Google sign-in"),
        Direct::GithubCode { .. } => (ProviderKind::Github, "GitHub sign-in"),
    };
    let (collection, decl) = provider_of(svc, project, kind, what, &context.client).await?;
    let profile = match step {
        Direct::GoogleIdToken(id_token) => {
            let p = AnyProvider::new(decl.resolve()?);
            let verified = p.verify_id_token(&svc.oauth, id_token).await;
            verified.inspect_err(|e| svc.metrics.auth(OAuth, AuthOutcome::of_error(e)))?
        }
        Direct::GithubCode { code, redirect_url } => {
            allowed_redirect(&decl, redirect_url)?;
            exchange_code(svc, &decl, code, None, redirect_url, None).await?
        }
    };
    complete(svc, project, &collection, &decl, profile, context).await
}
