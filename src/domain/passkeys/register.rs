//! Registering a passkey: options for `navigator.credentials.create()`, and
//! the browser's answer verified and stored.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::Value;
use webauthn_rs_core::proto::{
    AuthenticatorAttachment, Credential, RegisterPublicKeyCredential, RegistrationState,
};

use super::ceremony::{self, Kind, Owner};
use super::manage::{Passkey, passkey_of, valid_name};
use crate::auth::keys;
use crate::domain::audit::{self, Kind as AuditKind};
use crate::domain::notices;
use crate::domain::services::Services;
use crate::domain::users::account::verify_password;
use crate::domain::users::model::User;
use crate::error::{AppError, AppResult};
use crate::store::passkeys::{self as store, PasskeyRow};

/// How recent a sign-in must be to add a passkey without the password.
pub const FRESH_SIGN_IN_SECS: i64 = 600;

/// Who asks to register a passkey, and from where.
pub struct RegistrationRequest<'a> {
    pub user: &'a User,
    /// The session of the caller's token.
    pub session_id: Option<&'a str>,
    /// The password, when the sign-in is not fresh.
    pub password: Option<&'a str>,
    /// The request's `Origin` header: picks the relying party.
    pub origin: Option<&'a str>,
    /// Shown by the authenticator as the relying party's name.
    pub rp_name: &'a str,
}

/// Registering needs a sign-in of the last minutes, or the password.
async fn require_fresh(svc: &Services, req: &RegistrationRequest<'_>) -> AppResult<()> {
    if let Some(p) = req.password {
        return match verify_password(svc, req.user, p).await? {
            true => Ok(()),
            false => Err(AppError::InvalidCredentials),
        };
    }
    let signed_in = match req.session_id {
        Some(sid) => crate::domain::sessions::with_user(&svc.db, sid)
            .await?
            .map(|(s, _)| s.created_at.timestamp()),
        None => None,
    };
    let fresh = signed_in.is_some_and(|t| Utc::now().timestamp() - t <= FRESH_SIGN_IN_SECS);
    if fresh {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "adding a passkey needs a sign-in of the last {} minutes, or the password",
            FRESH_SIGN_IN_SECS / 60
        )))
    }
}

/// The user's stored credentials (webauthn-rs's form).
pub(super) fn credentials(rows: &[PasskeyRow]) -> AppResult<Vec<Credential>> {
    rows.iter()
        .map(|r| serde_json::from_str(&r.credential).map_err(|e| AppError::Internal(e.into())))
        .collect()
}

/// Options for `navigator.credentials.create()` (the JSON of
/// `PublicKeyCredentialCreationOptions`): a discoverable credential, user
/// verification preferred, attestation `none`.
pub async fn registration_options(
    svc: &Services,
    req: RegistrationRequest<'_>,
) -> AppResult<Value> {
    require_fresh(svc, &req).await?;
    let rp = svc.passkeys.for_origin(req.origin);
    let user = req.user;
    let existing = store::of_user(&svc.db, &user.id).await?;
    let exclude = credentials(&existing)?
        .into_iter()
        .map(|c| c.cred_id)
        .collect::<Vec<_>>();
    let display = user
        .data
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&user.email);
    let builder = rp
        .core
        .new_challenge_register_builder(user.id.as_bytes(), &user.email, display)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webauthn: {e:?}")))?
        .exclude_credentials(Some(exclude))
        .authenticator_attachment(None::<AuthenticatorAttachment>);
    let (options, state) = rp
        .core
        .generate_challenge_register(builder)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("webauthn: {e:?}")))?;
    let (mut json, challenge) = ceremony::options_json(&options)?;
    // A discoverable credential when the authenticator can keep one (for
    // sign-in without an email), never a refusal when it cannot.
    json["authenticatorSelection"]["residentKey"] = "preferred".into();
    json["authenticatorSelection"]["requireResidentKey"] = false.into();
    json["rp"]["name"] = req.rp_name.into();
    let owner = Owner {
        project_id: &user.project_id,
        user_id: Some(&user.id),
        login_challenge_id: None,
    };
    ceremony::keep(svc, rp, Kind::Register, owner, &challenge, &state).await?;
    Ok(json)
}

/// Verifies the answer of `navigator.credentials.create()` (its `toJSON()`)
/// against the user's own open registration, and stores the passkey.
pub async fn finish_registration(
    svc: &Services,
    user: &User,
    credential: &Value,
    name: Option<&str>,
) -> AppResult<Passkey> {
    let name = valid_name(name.unwrap_or("Passkey"))?;
    let (reg, challenge): (RegisterPublicKeyCredential, _) = ceremony::parse_answer(credential)?;
    let (row, state): (_, RegistrationState) =
        ceremony::take(svc, &user.project_id, Kind::Register, &challenge).await?;
    // A challenge issued to another user is void here (and now spent).
    if row.user_id.as_deref() != Some(user.id.as_str()) {
        return Err(AppError::ChallengeInvalid);
    }
    let rp = svc
        .passkeys
        .by_id(&row.rp_id)
        .ok_or(AppError::ChallengeInvalid)?;
    let cred = rp
        .core
        .register_credential(&reg, &state, None)
        .map_err(|e| {
            tracing::info!(event = "passkey_registration_refused", reason = ?e, user_id = %user.id);
            AppError::validation(
                "credential",
                format!("the authenticator's answer was refused ({e:?})"),
            )
        })?;
    let credential_id = URL_SAFE_NO_PAD.encode(cred.cred_id.as_slice());
    if store::by_credential(&svc.db, &user.project_id, &credential_id)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict("passkey".into()));
    }
    let row = PasskeyRow {
        id: keys::new_id(),
        user_id: user.id.clone(),
        project_id: user.project_id.clone(),
        rp_id: rp.id.clone(),
        credential_id,
        credential: serde_json::to_string(&cred).map_err(|e| AppError::Internal(e.into()))?,
        name,
        created_at: Utc::now().timestamp(),
        last_used_at: None,
    };
    store::insert(&svc.db, &row).await?;
    notices::second_factor_changed(
        svc,
        user,
        &format!(
            "A passkey named \"{}\" was added to your account.",
            row.name
        ),
    )
    .await;
    let added = audit::of(user, AuditKind::PasskeyAdded).with("passkey", row.id.as_str());
    added.save(svc).await?;
    Ok(passkey_of(&row))
}
