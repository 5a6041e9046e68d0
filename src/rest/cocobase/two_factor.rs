//! Cocobase's two-factor log-in: `2fa/enable`, `2fa/disable`, `2fa/send-code
//! {email}` and `2fa/verify {email, code}`; log-in and sign-up answer
//! `{requires_2fa: true, message}` (no token) while a second factor is due.
//! The code is mailed (or comes from an authenticator app enrolled through
//! GraphQL). Without an SMTP server, email 2FA answers "not enabled".
use axum::Json;
use serde_json::{Value, json};

use super::call::{Coco, CocoBody, Result, auth_json};
use super::doc::{Errors, Message};
use crate::domain::collections::DEFAULT_COLLECTION;
use crate::domain::email_codes::{self, Purpose};
use crate::domain::second_factor::{self, FactorScope, LogInOutcome, Reauth};
use crate::error::AppError;
use crate::http::body::{opt_string, string_field};

/// Tokens, or `{requires_2fa: true, message}`.
pub fn outcome_json(outcome: LogInOutcome) -> Value {
    match outcome {
        LogInOutcome::Complete(auth) => auth_json(&auth.token, &auth.user),
        LogInOutcome::SecondFactorRequired(c) => {
            let mail = c.methods.contains(&second_factor::Method::EmailCode);
            let message = if mail {
                "2FA code sent to your email; verify it with /auth-collections/2fa/verify"
            } else {
                "A second factor is required; verify it with /auth-collections/2fa/verify"
            };
            json!({"requires_2fa": true, "message": message})
        }
    }
}

fn mail_on(call: &Coco) -> Result<()> {
    Ok(email_codes::enabled(
        call.services(),
        Purpose::SecondFactor,
    )?)
}

#[utoipa::path(post, path = "/auth-collections/2fa/enable", security(("bearer" = [])),
    summary = "Turn on codes by mail at log-in (Bearer); 403 without an SMTP server",
    responses(Message<Errors<401, 403>>))]
pub async fn enable(call: Coco) -> Result<Json<Value>> {
    mail_on(&call)?;
    let caller = &call.caller;
    let keep = caller.session_id.as_deref();
    second_factor::enable_email(call.services(), caller.user()?, keep).await?;
    Ok(Json(json!({"message": "2FA enabled"})))
}

#[utoipa::path(post, path = "/auth-collections/2fa/disable", security(("bearer" = [])), request_body = Object,
    summary = "Turn off codes by mail (Bearer, with `password` or `recovery_code`)",
    responses(Message<Errors<400, 401>>))]
pub async fn disable(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let caller = &call.caller;
    let me = caller.user()?;
    let password = opt_string(&body, "password")?;
    let recovery = opt_string(&body, "recovery_code")?;
    let proof = Reauth::of(password.as_deref(), recovery.as_deref()).ok_or_else(|| {
        AppError::required(
            "password",
            "Disabling 2FA needs the account's `password` (or a `recovery_code`).",
        )
    })?;
    let keep = caller.session_id.as_deref();
    let scope = FactorScope::EmailCodes;
    second_factor::disable(call.services(), me, proof, keep, scope).await?;
    Ok(Json(json!({"message": "2FA disabled"})))
}

#[utoipa::path(post, path = "/auth-collections/2fa/send-code", security(("apiKey" = [])), request_body = Object,
    summary = "Mail a new code for a pending log-in (`{email}`; the same answer for any email)",
    responses(Message<Errors<403, 422>>))]
pub async fn send_code(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    mail_on(&call)?;
    let email = string_field(&body, "email")?;
    let svc = call.services();
    let project = call.caller.project()?;
    let coll = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    second_factor::resend_email_code(svc, &coll, &email).await?;
    Ok(Json(
        json!({"message": "If a log-in is waiting for it, a code was sent"}),
    ))
}

#[utoipa::path(post, path = "/auth-collections/2fa/verify", security(("apiKey" = [])), request_body = Object,
    summary = "Complete a log-in with `{email, code}` (the mailed or authenticator-app code)",
    responses((status = 200, description = "`{access_token, token_type, user}`", body = Object), Errors<401, 422, 429>))]
pub async fn verify(call: Coco, body: CocoBody) -> Result<Json<Value>> {
    let email = string_field(&body, "email")?;
    let code = string_field(&body, "code")?;
    let (svc, caller) = (call.services(), &call.caller);
    let project = caller.project()?;
    let coll = svc
        .catalog
        .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
        .await?;
    let auth =
        second_factor::verify_by_email(svc, project, &coll, &email, &code, &caller.client).await?;
    Ok(Json(auth_json(&auth.token, &auth.user)))
}
