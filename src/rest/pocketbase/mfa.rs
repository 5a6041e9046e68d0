//! PocketBase's MFA: a first method that is not enough answers 401 with an
//! `mfaId`; a second, different method sent with it (in the body or the
//! query, as PocketBase reads it) completes the log-in. `auth-with-totp` is
//! this server's extension for authenticator apps and recovery codes.
use axum::Json;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::{CollPath, PbBody, PbColl, Reply, Result, blank, required};
use super::doc::Errors;
use super::record::record_json;
use crate::domain::collections::Collection;
use crate::domain::second_factor::{self, LogInOutcome, SecondProof};
use crate::domain::services::Services;
use crate::domain::users::{AuthResult, SignInContext, TokenLifetime};

/// What a PocketBase sign-in needs besides its credential: long-lived tokens
/// (its SDK never refreshes), answering the request's `mfaId` if it has one.
pub fn sign_in(call: &PbColl, body: &Map<String, Value>) -> SignInContext {
    let long_lived = SignInContext::new(&call.caller.client, TokenLifetime::LongLived);
    long_lived.answering(mfa_id(body, call.query.as_deref()))
}

/// The `mfaId` of a request: the body's, else the query's.
fn mfa_id(body: &Map<String, Value>, query: Option<&str>) -> Option<String> {
    body.get("mfaId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .find(|(k, _)| k == "mfaId")
                .map(|(_, v)| v.into_owned())
        })
        .filter(|v| !v.is_empty())
}

/// `{token, record}`, the record as its own collection describes it.
pub async fn tokens_reply(svc: &Services, coll: Collection, auth: &AuthResult) -> Result<Reply> {
    let coll = if auth.user.collection_id == coll.id {
        coll
    } else {
        svc.catalog
            .collection(&svc.db, &auth.user.collection_id)
            .await?
    };
    Ok((
        StatusCode::OK,
        Json(json!({"token": auth.token, "record": record_json(&auth.user, &coll, true)})),
    ))
}

/// Tokens, or PocketBase's 401 `{mfaId}` when another method must follow.
pub async fn outcome_reply(
    svc: &Services,
    coll: Collection,
    outcome: LogInOutcome,
) -> Result<Reply> {
    match outcome {
        LogInOutcome::Complete(auth) => tokens_reply(svc, coll, &auth).await,
        LogInOutcome::SecondFactorRequired(c) => {
            let methods: Vec<&str> = c.methods.iter().map(|m| m.key()).collect();
            Ok((
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "status": 401,
                    "message": "Please complete the MFA.",
                    "data": {},
                    "mfaId": c.id,
                    "methods": methods,
                })),
            ))
        }
    }
}

/// `{mfaId, code}` (from an authenticator app) or `{mfaId, recoveryCode}` → `{token, record}`.
#[utoipa::path(post, path = "/api/collections/{collection}/auth-with-totp", params(CollPath), request_body = Object,
    summary = "Completes an MFA log-in with an authenticator-app code or a recovery code (extension)",
    responses((status = 200, description = "`{token, record}`", body = Object), Errors<400, 401, 429>))]
pub async fn auth_with_totp(call: PbColl, body: PbBody) -> Result<Reply> {
    let coll = call.collection().await?;
    let id = mfa_id(&body, call.query.as_deref()).ok_or_else(|| blank("mfaId"))?;
    let proof = match body.get("recoveryCode").and_then(Value::as_str) {
        Some(r) => SecondProof::RecoveryCode(r),
        None => SecondProof::Code(required(&body, "code")?),
    };
    let (svc, caller) = (call.services(), &call.caller);
    let auth = second_factor::verify(svc, caller.project()?, &id, proof, &caller.client).await?;
    tokens_reply(svc, coll, &auth).await
}
