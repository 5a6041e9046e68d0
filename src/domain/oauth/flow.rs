//! A sign-in's flow: its start hands out the provider's URL and a `state`
//! (single use, bound to the collection, provider and redirect URL, expiring
//! in minutes, stored only hashed); its finish redeems the code with the
//! PKCE verifier and the nonce kept at the start.
use chrono::Utc;

use super::config::OAuth2Decl;
use super::identities::{SignIn, sign_in};
use crate::auth::oauth::any::AnyProvider;
use crate::auth::oauth::apple;
use crate::auth::oauth::pkce;
use crate::auth::oauth::types::{AuthorizeParams, ExchangeParams, Profile};
use crate::domain::audit::{self, Kind};
use crate::domain::client::ClientInfo;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::limits;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::{LogInOutcome, Method, after_first_factor};
use crate::domain::services::Services;
use crate::domain::users::model::SignInContext;
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod::OAuth;
use crate::metrics::AuthOutcome;
use crate::store::oauth::{self as store, FlowRow};

/// How long a started flow waits for its callback.
pub const FLOW_TTL_SECS: i64 = 600;

/// A provider a collection offers, as clients list it.
#[derive(Clone, Debug)]
pub struct ProviderInfo {
    pub name: String,
    pub display_name: String,
}

/// The providers of a collection.
pub fn providers(collection: &Collection) -> Vec<ProviderInfo> {
    collection
        .settings
        .oauth2
        .iter()
        .map(|p| ProviderInfo {
            name: p.name.clone(),
            display_name: p.display_name(),
        })
        .collect()
}

/// The collection's provider named `name`.
pub fn provider<'a>(collection: &'a Collection, name: &str) -> AppResult<&'a OAuth2Decl> {
    collection
        .settings
        .oauth2
        .iter()
        .find(|p| p.name == name)
        .ok_or(AppError::NotFound("OAuth2 provider"))
}

/// A redirect URL on the provider's allow-list, matched exactly.
pub fn allowed_redirect(decl: &OAuth2Decl, url: &str) -> AppResult<()> {
    if decl.redirect_urls.iter().any(|u| u == url) {
        Ok(())
    } else {
        Err(AppError::validation(
            "redirectUrl",
            "this redirect URL is not one the provider's configuration allows",
        ))
    }
}

/// The provider's redirect URL when it lists exactly one (a start that
/// names none, as Cocobase's `login-google` may).
fn sole_redirect(decl: &OAuth2Decl) -> AppResult<String> {
    match decl.redirect_urls.as_slice() {
        [only] => Ok(only.clone()),
        _ => Err(AppError::required(
            "redirect_uri",
            "name the redirect URL: the provider lists several",
        )),
    }
}

/// Starting a sign-in (an empty `redirect_url`: the provider's only one).
#[derive(Clone, Debug, Default)]
pub struct StartRequest {
    pub collection: Option<String>,
    pub provider: String,
    pub redirect_url: String,
    /// The signed-in user whose identity the flow links (`linkIdentity`);
    /// such a flow does not sign in.
    pub link_user: Option<String>,
    /// Where the call comes from (rate limited per address).
    pub client: ClientInfo,
}

/// A started sign-in: send the browser to `url`; the callback brings back
/// `state` and a code.
#[derive(Clone, Debug)]
pub struct Started {
    pub url: String,
    pub state: String,
    pub code_challenge: String,
}

/// Starts a sign-in with a collection's provider.
pub async fn start(svc: &Services, project: &Project, req: StartRequest) -> AppResult<Started> {
    limits::oauth(svc, &req.client).await?;
    let collection = svc
        .catalog
        .collection_by_name(
            &svc.db,
            &project.id,
            req.collection.as_deref().unwrap_or(DEFAULT_COLLECTION),
        )
        .await?;
    let decl = provider(&collection, &req.provider)?;
    let mut req = req;
    if req.redirect_url.is_empty() {
        req.redirect_url = sole_redirect(decl)?;
    }
    allowed_redirect(decl, &req.redirect_url)?;
    let p = AnyProvider::new(decl.resolve()?);
    let (state, verifier, nonce) = (
        pkce::random_token(),
        pkce::random_token(),
        pkce::random_token(),
    );
    let challenge = pkce::challenge(&verifier);
    let url = p
        .authorize_url(
            &svc.oauth,
            &AuthorizeParams {
                redirect_url: Some(&req.redirect_url),
                state: &state,
                code_challenge: &challenge,
                nonce: Some(&nonce),
            },
        )
        .await?;
    let now = Utc::now().timestamp();
    let (state_hash, expires_at) = (pkce::hash(&state), now + FLOW_TTL_SECS);
    let row = FlowRow {
        project_id: project.id.clone(),
        collection_id: collection.id.clone(),
        provider: decl.name.clone(),
        redirect_url: req.redirect_url,
        code_verifier: svc.seal.seal(&seal_owner(&state_hash), verifier.as_bytes()),
        nonce,
    };
    store::put_flow(&svc.db, &state_hash, row, expires_at, now).await?;
    if let Some(user) = &req.link_user {
        store::put_flow_link(&svc.db, &state_hash, user, expires_at, now).await?;
    }
    Ok(Started {
        url,
        state,
        code_challenge: challenge,
    })
}

/// A provider as PocketBase's `auth-methods` lists it: the client keeps the
/// state and the PKCE verifier, and appends its redirect URL to `auth_url`.
#[derive(Clone, Debug)]
pub struct ClientFlow {
    pub name: String,
    pub display_name: String,
    pub state: String,
    pub auth_url: String,
    pub code_verifier: String,
    pub code_challenge: String,
}

/// Client-kept flows for each provider of a collection. A provider that
/// cannot be reached now is left out of the list (and logged).
pub async fn client_flows(svc: &Services, collection: &Collection) -> Vec<ClientFlow> {
    let mut out = vec![];
    for decl in &collection.settings.oauth2 {
        let (state, verifier) = (pkce::random_token(), pkce::random_token());
        let challenge = pkce::challenge(&verifier);
        let url = match decl.resolve() {
            Ok(c) => {
                AnyProvider::new(c)
                    .authorize_url(
                        &svc.oauth,
                        &AuthorizeParams {
                            redirect_url: None,
                            state: &state,
                            code_challenge: &challenge,
                            nonce: None,
                        },
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        match url {
            Ok(auth_url) => out.push(ClientFlow {
                name: decl.name.clone(),
                display_name: decl.display_name(),
                state,
                auth_url,
                code_verifier: verifier,
                code_challenge: challenge,
            }),
            Err(e) => tracing::warn!(provider = %decl.name, error = %e, "oauth2 provider left out"),
        }
    }
    out
}

/// The callback of a started sign-in.
#[derive(Clone, Debug, Default)]
pub struct FinishRequest {
    pub state: String,
    pub code: String,
    pub context: SignInContext,
}

/// A finished sign-in: its outcome, whether it created the user, and what
/// the provider said of the account.
#[derive(Clone, Debug)]
pub struct Finished {
    pub outcome: LogInOutcome,
    pub is_new: bool,
    /// Whether the sign-in joined an existing account by its email.
    pub linked_by_email: bool,
    pub profile: Profile,
}

/// What a flow's PKCE verifier is sealed for: a copy of the table (a backup,
/// a read-only leak) does not give the verifier, and a sealed verifier moved
/// to another flow's row does not open there.
fn seal_owner(state_hash: &str) -> String {
    format!("oauth2 flow {state_hash}")
}

fn invalid_state() -> AppError {
    AppError::OAuthRejected("the sign-in's state is unknown, used or expired; start again".into())
}

/// A redeemed flow: the provider's account, in the flow's collection.
pub struct Redeemed {
    pub collection: Collection,
    pub provider: String,
    pub profile: Profile,
}

/// Takes the flow of `state` (used once) and redeems `code` with its PKCE
/// verifier and nonce. `link_user` must be the user the flow was started to
/// link for (`None`: a sign-in flow).
pub async fn redeem(
    svc: &Services,
    project: &Project,
    state: &str,
    code: &str,
    link_user: Option<&str>,
    client: &ClientInfo,
) -> AppResult<Redeemed> {
    limits::oauth(svc, client).await?;
    let now = Utc::now().timestamp();
    let state_hash = pkce::hash(state);
    let flow = store::take_flow(&svc.db, &state_hash, now)
        .await?
        .filter(|f| f.project_id == project.id)
        .ok_or_else(invalid_state)?;
    let linked = store::take_flow_link(&svc.db, &state_hash).await?;
    // Sealed under another server secret (or altered): the flow cannot finish.
    let code_verifier = svc
        .seal
        .open(&seal_owner(&state_hash), &flow.code_verifier)
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or_else(invalid_state)?;
    if linked.as_deref() != link_user {
        return Err(AppError::Forbidden(match linked {
            Some(_) if link_user.is_none() => {
                "this flow was started to link an identity; finish it with linkIdentity".into()
            }
            _ => "this flow was not started to link an identity to this user".into(),
        }));
    }
    let collection = svc.catalog.collection(&svc.db, &flow.collection_id).await?;
    let decl = provider(&collection, &flow.provider)?;
    let verifier = Some(code_verifier.as_str());
    let nonce = Some(flow.nonce.as_str());
    let profile = exchange_code(svc, decl, code, verifier, &flow.redirect_url, nonce).await?;
    Ok(Redeemed {
        provider: decl.name.clone(),
        collection,
        profile,
    })
}

/// Redeems `code` at the provider of `decl`; `nonce` is checked only by a
/// provider that uses one.
pub(super) async fn exchange_code(
    svc: &Services,
    decl: &OAuth2Decl,
    code: &str,
    code_verifier: Option<&str>,
    redirect_url: &str,
    nonce: Option<&str>,
) -> AppResult<Profile> {
    let p = AnyProvider::new(decl.resolve()?);
    let params = ExchangeParams {
        code,
        code_verifier,
        redirect_url,
        nonce: nonce.filter(|_| p.uses_nonce()),
    };
    let profile = p.exchange(&svc.oauth, &params).await;
    profile.inspect_err(|e| svc.metrics.auth(OAuth, AuthOutcome::of_error(e)))
}

/// Drops the flow of `state` (its provider refused or the user cancelled).
pub async fn abandon(svc: &Services, state: &str) -> AppResult<()> {
    let state_hash = pkce::hash(state);
    store::take_flow(&svc.db, &state_hash, Utc::now().timestamp()).await?;
    store::take_flow_link(&svc.db, &state_hash).await?;
    Ok(())
}

/// The project a live flow belongs to (for a callback that carries no key).
pub async fn project_of(svc: &Services, state: &str) -> AppResult<Project> {
    let now = Utc::now().timestamp();
    let id = store::flow_project(&svc.db, &pkce::hash(state), now)
        .await?
        .ok_or_else(invalid_state)?;
    svc.catalog.project(&svc.db, &id).await
}

/// Finishes a sign-in started by [`start`]: the state is taken (used once),
/// the code redeemed, the account found or created, then the usual end of
/// a first factor.
pub async fn finish(svc: &Services, project: &Project, req: FinishRequest) -> AppResult<Finished> {
    finish_with_name(svc, project, req, None).await
}

/// Finishes a sign-in whose callback was Apple's `form_post`: like
/// [`finish`], and the name in the form's `user` field (sent on the first
/// sign-in only; Apple's ID token carries none) fills the profile's name.
pub async fn finish_form_post(
    svc: &Services,
    project: &Project,
    req: FinishRequest,
    user: Option<&str>,
) -> AppResult<Finished> {
    let name = user.and_then(apple::form_user_name);
    finish_with_name(svc, project, req, name).await
}

async fn finish_with_name(
    svc: &Services,
    project: &Project,
    req: FinishRequest,
    form_name: Option<String>,
) -> AppResult<Finished> {
    let client = &req.context.client;
    let mut r = redeem(svc, project, &req.state, &req.code, None, client).await?;
    if r.profile.name.is_none() {
        r.profile.name = form_name;
    }
    let decl = provider(&r.collection, &r.provider)?;
    complete(svc, project, &r.collection, decl, r.profile, &req.context).await
}

/// Signs in with a code and a verifier the client kept itself (PocketBase's
/// `auth-with-oauth2`, whose SDK checks the state): the redirect URL must be
/// on the allow-list, and no nonce is checked (none was bound server-side).
#[allow(clippy::too_many_arguments)]
pub async fn finish_with_verifier(
    svc: &Services,
    project: &Project,
    collection: &Collection,
    provider_name: &str,
    code: &str,
    code_verifier: &str,
    redirect_url: &str,
    context: &SignInContext,
) -> AppResult<Finished> {
    limits::oauth(svc, &context.client).await?;
    let decl = provider(collection, provider_name)?;
    allowed_redirect(decl, redirect_url)?;
    let verifier = Some(code_verifier);
    let profile = exchange_code(svc, decl, code, verifier, redirect_url, None).await?;
    complete(svc, project, collection, decl, profile, context).await
}

/// The end of every OAuth2 sign-in: the user found or created, then the
/// usual end of a first factor.
pub async fn complete(
    svc: &Services,
    project: &Project,
    collection: &Collection,
    decl: &OAuth2Decl,
    profile: Profile,
    context: &SignInContext,
) -> AppResult<Finished> {
    let SignIn {
        user,
        is_new,
        linked_by_email,
    } = svc.metrics.counted(
        OAuth,
        sign_in(svc, project, collection, &decl.name, &profile).await,
    )?;
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    if !is_new {
        let logged_in = audit::of(&user, Kind::LogIn)
            .client(&context.client)
            .with("method", "oauth2");
        logged_in
            .with("provider", decl.name.as_str())
            .save(svc)
            .await?;
    }
    let outcome = after_first_factor(svc, collection, user, Method::OAuth2, context).await?;
    Ok(Finished {
        outcome,
        is_new,
        linked_by_email,
        profile,
    })
}
