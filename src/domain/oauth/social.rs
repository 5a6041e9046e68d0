//! Social sign-in whose provider callback is this server's own URL and which
//! ends in the app (urBackend): the start, from a browser link carrying the
//! publishable key, redirects to the provider; the callback finishes the
//! flow and sends the browser to the collection's `oauth2_site_url` with
//! the access token in the fragment and a one-time `rtCode`; the app trades
//! that code, with the token, for the refresh token (`exchange`). The code
//! is single use, expires in minutes, is stored only as a keyed hash, and is
//! bound to its user, its session and the access token it came with.
use chrono::Utc;
use sea_orm::EntityTrait;

use super::callback::Callback;
use super::config::OAuth2Decl;
use super::flow::{self, FinishRequest, StartRequest, project_of, provider};
use crate::auth::keys::{self, KeyKind};
use crate::domain::access::{Caller, Credentials};
use crate::domain::client::ClientInfo;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::limits;
use crate::domain::projects::Project;
use crate::domain::second_factor::LogInOutcome;
use crate::domain::services::Services;
use crate::domain::users::model::{SignInContext, TokenLifetime};
use crate::error::{AppError, AppResult};
use crate::store::codes::{self as store, Key, NewCode};

/// The purpose of the exchange codes among one-time codes.
const PURPOSE: &str = "oauth_exchange";
/// How long the app has to exchange its code.
pub const EXCHANGE_TTL_SECS: i64 = 300;

/// The provider's redirect URL whose path ends with `path`: the server's own
/// callback, as registered at the provider and listed in `redirect_urls`.
pub fn server_redirect(decl: &OAuth2Decl, path: &str) -> AppResult<String> {
    decl.redirect_urls
        .iter()
        .find(|u| reqwest::Url::parse(u).is_ok_and(|u| u.path().ends_with(path)))
        .cloned()
        .ok_or_else(|| {
            AppError::Forbidden(format!(
                "the provider `{}` lists no redirect URL ending in {path} (register this server's \
                 callback at the provider and add it to `redirect_urls`)",
                decl.name
            ))
        })
}

/// The project of the publishable key a browser link carries (`?key=`, or
/// the caller's `x-api-key`). A secret key never belongs in a browser: refused.
async fn publishable_project(
    svc: &Services,
    caller: &Caller,
    key: Option<&str>,
) -> AppResult<Project> {
    let secret = || {
        AppError::Forbidden(
            "a secret key must never reach a browser; use the publishable key".into(),
        )
    };
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return match caller.key {
            Some(KeyKind::Publishable) => caller.project().cloned(),
            Some(KeyKind::Secret) => Err(secret()),
            None => Err(AppError::Unauthenticated),
        };
    };
    if KeyKind::of(key) == Some(KeyKind::Secret) {
        return Err(secret());
    }
    let (project, _) = svc.catalog.authenticate_key(&svc.db, key).await?;
    if caller.project.as_ref().is_some_and(|p| p.id != project.id) {
        return Err(AppError::Forbidden("credentials of another project".into()));
    }
    Ok(project)
}

/// The app's URL where the sign-in ends.
fn site_url(collection: &Collection) -> AppResult<&str> {
    collection
        .settings
        .oauth2_site_url
        .as_deref()
        .map(|u| u.trim_end_matches('/'))
        .ok_or_else(|| {
            AppError::Forbidden(
                "social sign-in needs the collection's `oauth2_site_url` (the app's URL)".into(),
            )
        })
}

/// Starts a sign-in with the provider `name` of the key's `users`; the
/// provider's URL to send the browser to. `callback_path` is the path of
/// the server's callback for this provider.
pub async fn start(
    svc: &Services,
    caller: &Caller,
    key: Option<&str>,
    name: &str,
    callback_path: &str,
) -> AppResult<String> {
    let project = publishable_project(svc, caller, key).await?;
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    site_url(&collection)?;
    let redirect_url = server_redirect(provider(&collection, name)?, callback_path)?;
    let req = StartRequest {
        collection: None,
        provider: name.to_owned(),
        redirect_url,
        link_user: None,
        client: caller.client.clone(),
    };
    Ok(flow::start(svc, &project, req).await?.url)
}

/// `key=value&…` of the answer's query.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    q.finish()
}

/// Finishes a sign-in at the server's callback: where to send the browser.
/// Success: `<site>/auth/callback?rtCode=&provider=&userId=&projectId=&isNewUser=&linkedByEmail=#token=<access>`;
/// a refusal: `?error=<CODE>&message=&provider=`; a second factor due:
/// `?error=SECOND_FACTOR_REQUIRED&challengeId=&provider=`. A state that is
/// unknown or used has no site to go back to: an error.
pub async fn finish(
    svc: &Services,
    name: &str,
    cb: Callback,
    client: &ClientInfo,
) -> AppResult<String> {
    let project = project_of(svc, &cb.state).await?;
    let collection = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let back = format!("{}/auth/callback", site_url(&collection)?);
    let fail = |code: &str, message: &str| {
        let q = query(&[("error", code), ("message", message), ("provider", name)]);
        format!("{back}?{q}")
    };
    let code = match cb.result {
        Ok(code) => code,
        // The provider refused (the user cancelled): the flow is spent too.
        Err(e) => {
            flow::abandon(svc, &cb.state).await?;
            return Ok(fail("OAUTH_REJECTED", &e));
        }
    };
    let req = FinishRequest {
        state: cb.state,
        code,
        context: SignInContext::new(client, TokenLifetime::Short),
    };
    let done = match flow::finish_form_post(svc, &project, req, cb.user.as_deref()).await {
        Ok(done) => done,
        Err(AppError::Internal(e)) => return Err(AppError::Internal(e)),
        Err(e) => return Ok(fail(e.code(), &e.public_message())),
    };
    let auth = match done.outcome {
        LogInOutcome::Complete(auth) => auth,
        LogInOutcome::SecondFactorRequired(c) => {
            let q = query(&[
                ("error", "SECOND_FACTOR_REQUIRED"),
                ("challengeId", &c.id),
                ("provider", name),
            ]);
            return Ok(format!("{back}?{q}"));
        }
    };
    let rt_code = keys::random_token(40);
    let now = Utc::now().timestamp();
    store::upsert(
        &svc.db,
        NewCode {
            id: &keys::new_id(),
            user_id: &auth.user.id,
            purpose: PURPOSE,
            token_hash: svc.codes.hash(PURPOSE, &rt_code),
            otp_hash: svc.codes.hash(&auth.user.id, &auth.token),
            expires_at: now + EXCHANGE_TTL_SECS,
            created_at: now,
            payload: Some(&auth.session_id),
        },
    )
    .await?;
    let q = query(&[
        ("rtCode", &rt_code),
        ("provider", name),
        ("userId", &auth.user.id),
        ("projectId", &project.id),
        ("isNewUser", if done.is_new { "true" } else { "false" }),
        (
            "linkedByEmail",
            if done.linked_by_email {
                "true"
            } else {
                "false"
            },
        ),
    ]);
    Ok(format!("{back}?{q}#{}", query(&[("token", &auth.token)])))
}

/// What an exchange yields: the session's refresh token and its lifetime.
pub struct Exchanged {
    pub refresh_token: String,
    pub refresh_ttl_secs: i64,
}

/// Trades a callback's `rtCode`, with the access token it came with, for
/// the session's refresh token. The code is spent by any attempt.
pub async fn exchange(
    svc: &Services,
    project: &Project,
    rt_code: &str,
    token: &str,
    client: &ClientInfo,
) -> AppResult<Exchanged> {
    limits::oauth(svc, client).await?;
    let now = Utc::now().timestamp();
    let key = svc.codes.hash(PURPOSE, rt_code);
    let code = store::live(&svc.db, Key::TokenHash(&key), PURPOSE, now)
        .await?
        .ok_or(AppError::InvalidToken)?;
    if !store::take(&svc.db, &code.id).await? {
        return Err(AppError::InvalidToken);
    }
    if !keys::ct_eq(&code.otp_hash, &svc.codes.hash(&code.user_id, token)) {
        return Err(AppError::InvalidToken);
    }
    // The token must still be good: its session live, its user enabled.
    let creds = Credentials {
        authorization: Some(format!("Bearer {token}")),
        ..Credentials::default()
    };
    let caller = Caller::resolve(svc, &creds).await?;
    let user = caller.user()?;
    let session_id = caller.session_id()?;
    if user.id != code.user_id
        || user.project_id != project.id
        || code.payload.as_deref() != Some(session_id)
    {
        return Err(AppError::InvalidToken);
    }
    let session = entity::session::Entity::find_by_id(session_id)
        .one(&svc.db)
        .await?
        .ok_or(AppError::InvalidToken)?;
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    Ok(Exchanged {
        refresh_token: svc
            .refresh
            .token(&session.id, session.counter, &session.nonce),
        refresh_ttl_secs: collection.settings.refresh_token_ttl_secs,
    })
}
