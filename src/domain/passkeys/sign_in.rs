//! Signing in with a passkey: options for `navigator.credentials.get()`,
//! then the assertion verified, as a first factor (with user verification,
//! both factors) or as the answer to a second-factor challenge.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::{Value, json};
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{AuthenticationState, PublicKeyCredential, UserVerificationPolicy};

use super::ceremony::{self, Kind, Owner};
use super::register::credentials;
use crate::domain::audit::{self, Kind as AuditKind};
use crate::domain::client::ClientInfo;
use crate::domain::collections::DEFAULT_COLLECTION;
use crate::domain::limits::LoginGuard;
use crate::domain::notices;
use crate::domain::projects::Project;
use crate::domain::second_factor::challenge::{
    LogInOutcome, Method, SecondProof, after_first_factor, passkey_challenge_user, verify,
};
use crate::domain::services::Services;
use crate::domain::users::issue::start_session;
use crate::domain::users::model::{SignInContext, User};
use crate::domain::users::query;
use crate::error::{AppError, AppResult};
use crate::metrics::AuthMethod;
use crate::store::passkeys::{self as store, CeremonyRow, PasskeyRow};

/// What a sign-in asks options for.
pub struct LoginOptionsRequest<'a> {
    /// Only this account's passkeys (else any discoverable one).
    pub email: Option<&'a str>,
    /// The second-factor challenge the passkey is to answer.
    pub challenge_id: Option<&'a str>,
    /// The request's `Origin` header: picks the relying party.
    pub origin: Option<&'a str>,
}

/// Stand-in credential ids for an email without passkeys, the same at every
/// call, so the answer does not tell whether the account exists.
fn decoy(svc: &Services, project: &Project, email: &str) -> Value {
    let scope = format!("passkey-decoy:{}", project.id);
    let hash = svc.codes.hash(&scope, &email.trim().to_lowercase());
    let id = URL_SAFE_NO_PAD.encode(hex::decode(&hash).unwrap_or_default());
    json!([{"type": "public-key", "id": id}])
}

fn allow_list(rows: &[PasskeyRow], rp_id: &str) -> Value {
    rows.iter()
        .filter(|r| r.rp_id == rp_id)
        .map(|r| json!({"type": "public-key", "id": r.credential_id}))
        .collect()
}

/// Options for `navigator.credentials.get()` (the JSON of
/// `PublicKeyCredentialRequestOptions`), user verification preferred.
pub async fn login_options(
    svc: &Services,
    project: &Project,
    req: LoginOptionsRequest<'_>,
) -> AppResult<Value> {
    let rp = svc.passkeys.for_origin(req.origin);
    let user_id = match (req.challenge_id, req.email) {
        (Some(id), _) => Some(passkey_challenge_user(svc, project, id).await?),
        (None, Some(email)) => {
            let collection = svc
                .catalog
                .collection_by_name(&svc.db, &project.id, DEFAULT_COLLECTION)
                .await?;
            query::find_by_email(&svc.db, &collection, email)
                .await?
                .map(|u| u.id)
        }
        (None, None) => None,
    };
    let builder = rp
        .core
        .new_challenge_authenticate_builder(vec![], Some(UserVerificationPolicy::Preferred))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webauthn: {e:?}")))?;
    let (options, state) = rp
        .core
        .generate_challenge_authenticate(builder)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webauthn: {e:?}")))?;
    let (mut json, challenge) = ceremony::options_json(&options)?;
    let rows = match &user_id {
        Some(id) => store::of_user(&svc.db, id).await?,
        None => vec![],
    };
    match (req.email, req.challenge_id) {
        (_, Some(_)) => json["allowCredentials"] = allow_list(&rows, &rp.id),
        (Some(email), None) if allow_list(&rows, &rp.id) == json!([]) => {
            json["allowCredentials"] = decoy(svc, project, email)
        }
        (Some(_), None) => json["allowCredentials"] = allow_list(&rows, &rp.id),
        (None, None) => {}
    }
    let owner = Owner {
        project_id: &project.id,
        user_id: user_id.as_deref(),
        login_challenge_id: req.challenge_id,
    };
    ceremony::keep(svc, rp, Kind::Login, owner, &challenge, &state).await?;
    Ok(json)
}

/// The passkey an assertion names, if it is one of this project's and fits
/// the ceremony (its relying party, and the user the ceremony was for).
async fn named_passkey(
    svc: &Services,
    project: &Project,
    pkc: &PublicKeyCredential,
    ceremony: &CeremonyRow,
) -> AppResult<PasskeyRow> {
    let credential_id = URL_SAFE_NO_PAD.encode(pkc.raw_id.as_slice());
    let for_user = ceremony.user_id.as_deref();
    let row = store::by_credential(&svc.db, &project.id, &credential_id)
        .await?
        .filter(|p| p.rp_id == ceremony.rp_id)
        .filter(|p| for_user.is_none_or(|u| u == p.user_id))
        // A discoverable credential names its user; it must be the owner.
        .filter(|p| {
            pkc.get_user_unique_id()
                .is_none_or(|h| h == p.user_id.as_bytes())
        });
    row.ok_or(AppError::InvalidCredentials)
}

/// What a verified assertion proved.
struct Proof {
    user: User,
    user_verified: bool,
}

/// Checks the assertion against the stored key and counter, and records the
/// use. A counter that did not grow means a copied authenticator: refused,
/// and the owner is told by mail.
async fn check(
    svc: &Services,
    row: &PasskeyRow,
    pkc: &PublicKeyCredential,
    mut state: AuthenticationState,
    client: &ClientInfo,
    project: &Project,
) -> AppResult<Proof> {
    let user = query::get(&svc.db, &project.id, &row.user_id)
        .await
        .map_err(|_| AppError::InvalidCredentials)?;
    let scope = format!("passkey:{}", user.collection_id);
    let guard = LoginGuard::enter(svc, AuthMethod::Passkey, &scope, &user.id, client).await?;
    let mut cred = credentials(std::slice::from_ref(row))?.remove(0);
    let rp = svc
        .passkeys
        .by_id(&row.rp_id)
        .ok_or(AppError::InvalidCredentials)?;
    state.set_allowed_credentials(vec![cred.clone()]);
    let result = match rp.core.authenticate_credential(pkc, &state) {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, WebauthnError::CredentialPossibleCompromise) {
                tracing::warn!(event = "passkey_counter_regressed", user_id = %user.id, passkey = %row.id);
                notices::second_factor_changed(
                    svc,
                    &user,
                    &format!(
                        "A sign-in with your passkey \"{}\" was refused: its signature counter \
                         went backwards, so the passkey may have been copied.",
                        row.name
                    ),
                )
                .await;
            } else {
                tracing::info!(event = "passkey_login_failed", reason = ?e, user_id = %user.id);
            }
            guard.failed(svc).await?;
            let failed = audit::of(&user, AuditKind::LogIn).client(client).failed();
            let failed = failed
                .with("method", "passkey")
                .with("passkey", row.id.as_str());
            return Err(failed.refuse(svc, AppError::InvalidCredentials).await);
        }
    };
    cred.counter = result.counter();
    cred.backup_state = result.backup_state();
    let updated = serde_json::to_string(&cred).map_err(|e| AppError::Internal(e.into()))?;
    let now = Utc::now().timestamp();
    if !store::record_use(&svc.db, &row.id, &row.credential, &updated, now).await? {
        // Another sign-in with this passkey won the race for this counter.
        return Err(AppError::InvalidCredentials);
    }
    guard.succeeded(svc).await?;
    if user.disabled {
        return Err(AppError::AccountDisabled);
    }
    Ok(Proof {
        user_verified: result.user_verified(),
        user,
    })
}

/// Verifies the answer of `navigator.credentials.get()` (its `toJSON()`):
/// tokens when the authenticator verified its user (a passkey is then both
/// factors) or when it answers a second-factor challenge; else the outcome
/// of a first factor.
pub async fn finish_login(
    svc: &Services,
    project: &Project,
    credential: &Value,
    sign_in: &SignInContext,
) -> AppResult<LogInOutcome> {
    let client = &sign_in.client;
    let (pkc, challenge): (PublicKeyCredential, _) = ceremony::parse_answer(credential)?;
    let (ceremony, state): (_, AuthenticationState) =
        ceremony::take(svc, &project.id, Kind::Login, &challenge).await?;
    let row = match named_passkey(svc, project, &pkc, &ceremony).await {
        Ok(row) => row,
        Err(e) => {
            let unknown = audit::in_project(&project.id, AuditKind::LogIn).client(client);
            let unknown = unknown.with("method", "passkey").failed();
            return Err(unknown.refuse(svc, e).await);
        }
    };
    let proof = check(svc, &row, &pkc, state, client, project).await?;
    let user = proof.user;
    if let Some(id) = ceremony.login_challenge_id.as_deref() {
        let proof = SecondProof::Passkey { user_id: &user.id };
        let auth = verify(svc, project, id, proof, client).await?;
        return Ok(LogInOutcome::Complete(auth));
    }
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let passed = audit::of(&user, AuditKind::LogIn)
        .client(client)
        .with("method", "passkey");
    passed.with("passkey", row.id.as_str()).save(svc).await?;
    if proof.user_verified {
        let auth = start_session(svc, &collection, user, client, sign_in.lifetime).await?;
        return Ok(LogInOutcome::Complete(auth));
    }
    let first = Method::Passkey;
    after_first_factor(svc, &collection, user, first, sign_in).await
}
