//! OAuth2 sign-in, PocketBase style: `auth-methods` lists each provider with
//! a state, a PKCE verifier and an `authURL` the client completes with its
//! redirect URL; `auth-with-oauth2` redeems the code with that verifier.
use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::call::{CollPath, Pb, PbBody, PbColl, Reply, Result, blank};
use super::doc::Errors;
use super::mfa::outcome_reply;
use crate::domain::collections::Collection;
use crate::domain::oauth::flow::{self, ClientFlow};
use crate::domain::second_factor::LogInOutcome;
use crate::domain::users::{SignInContext, TokenLifetime};
use crate::error::AppError;

/// `auth-methods`' `oauth2` part.
pub async fn providers_json(call: &Pb, coll: &Collection) -> Value {
    let flows = flow::client_flows(call.services(), coll).await;
    let providers: Vec<Value> = flows.iter().map(provider_json).collect();
    json!({"enabled": !providers.is_empty(), "providers": providers})
}

fn provider_json(f: &ClientFlow) -> Value {
    json!({
        "name": f.name,
        "displayName": f.display_name,
        "state": f.state,
        "authURL": f.auth_url,
        "authUrl": f.auth_url,
        "codeVerifier": f.code_verifier,
        "codeChallenge": f.code_challenge,
        "codeChallengeMethod": "S256",
    })
}

/// `{provider, code, codeVerifier, redirectURL[, createData]}` → `{token, record, meta}`.
#[utoipa::path(post, path = "/api/collections/{collection}/auth-with-oauth2", params(CollPath), request_body = Object,
    summary = "OAuth2 sign-in (`provider`, `code`, `codeVerifier`, `redirectURL`)",
    responses((status = 200, description = "`{token, record, meta}`", body = Object), (status = 401, description = "`{mfaId}`: a second factor is required", body = Object), Errors<400, 403, 404>))]
pub async fn auth_with_oauth2(call: PbColl, body: PbBody) -> Result<Reply> {
    if call.is_superusers() {
        return Err(AppError::NotFound("OAuth2 provider").into());
    }
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let provider = text("provider").ok_or_else(|| blank("provider"))?;
    let code = text("code").ok_or_else(|| blank("code"))?;
    let verifier = text("codeVerifier").ok_or_else(|| blank("codeVerifier"))?;
    let redirect = text("redirectURL")
        .or_else(|| text("redirectUrl"))
        .ok_or_else(|| blank("redirectURL"))?;
    let svc = call.services();
    let coll = call.collection().await?;
    let finished = flow::finish_with_verifier(
        svc,
        call.caller.project()?,
        &coll,
        &provider,
        &code,
        &verifier,
        &redirect,
        &SignInContext::new(&call.caller.client, TokenLifetime::LongLived),
    )
    .await?;
    let user_id = match &finished.outcome {
        LogInOutcome::Complete(a) => a.user.id.clone(),
        LogInOutcome::SecondFactorRequired(c) => c.user_id.clone(),
    };
    let (status, Json(mut reply)) = outcome_reply(svc, coll, finished.outcome).await?;
    if status == StatusCode::OK {
        let prof = &finished.profile;
        reply["meta"] = json!({
            "id": user_id,
            "name": prof.name.clone().unwrap_or_default(),
            "username": "",
            "email": prof.email.clone().unwrap_or_default(),
            "avatarURL": prof.avatar_url.clone().unwrap_or_default(),
            "avatarUrl": prof.avatar_url.clone().unwrap_or_default(),
            "isNew": finished.is_new,
            "rawUser": prof.raw,
            "accessToken": "",
            "refreshToken": "",
            "expiry": "",
        });
    }
    Ok((status, Json(reply)))
}
