//! What registration and sign-in share: a ceremony's state kept server-side
//! under a keyed hash of its challenge (single use, minutes, one project),
//! and the JSON the browser's `PublicKeyCredential` reads and writes.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::relying_party::{CEREMONY_TTL_SECS, RelyingParty};
use crate::auth::keys;
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
use crate::store::passkeys::{self as store, CeremonyRow};

/// Which ceremony a challenge belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Register,
    Login,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Register => "register",
            Kind::Login => "login",
        }
    }
}

/// Who a ceremony is for, beside its project.
pub struct Owner<'a> {
    pub project_id: &'a str,
    /// The registering user, or the user an email or challenge named.
    pub user_id: Option<&'a str>,
    /// The second-factor challenge a sign-in answers.
    pub login_challenge_id: Option<&'a str>,
}

fn challenge_hash(svc: &Services, project_id: &str, challenge_b64: &str) -> String {
    svc.codes
        .hash(&format!("passkey:{project_id}"), challenge_b64)
}

/// The `publicKey` member of webauthn-rs's options, as
/// `PublicKeyCredential.parse*OptionsFromJSON` and `@simplewebauthn/browser`
/// take them (absent members left out rather than null), and its challenge.
pub fn options_json(options: &impl Serialize) -> AppResult<(Value, String)> {
    let mut v = serde_json::to_value(options).map_err(|e| AppError::Internal(e.into()))?;
    let mut inner = v
        .get_mut("publicKey")
        .map(Value::take)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("webauthn options without publicKey")))?;
    strip_nulls(&mut inner);
    let challenge = inner["challenge"].as_str().unwrap_or_default().to_owned();
    Ok((inner, challenge))
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Keeps a ceremony's state, without its challenge, under the challenge's hash.
pub async fn keep(
    svc: &Services,
    rp: &RelyingParty,
    kind: Kind,
    owner: Owner<'_>,
    challenge_b64: &str,
    state: &impl Serialize,
) -> AppResult<()> {
    let mut state = serde_json::to_value(state).map_err(|e| AppError::Internal(e.into()))?;
    if let Some(map) = state.as_object_mut() {
        // The challenge is a secret until answered: only its keyed hash is stored.
        map.remove("challenge");
    }
    let now = Utc::now().timestamp();
    let row = CeremonyRow {
        id: keys::new_id(),
        challenge_hash: challenge_hash(svc, owner.project_id, challenge_b64),
        project_id: owner.project_id.to_owned(),
        user_id: owner.user_id.map(str::to_owned),
        login_challenge_id: owner.login_challenge_id.map(str::to_owned),
        kind: kind.key().to_owned(),
        rp_id: rp.id.clone(),
        state: state.to_string(),
        expires_at: now + CEREMONY_TTL_SECS,
    };
    store::insert_ceremony(&svc.db, &row, now).await
}

/// A browser's answer, parsed, with the challenge its client data signed.
pub fn parse_answer<T: DeserializeOwned>(credential: &Value) -> AppResult<(T, String)> {
    let invalid = || {
        AppError::validation(
            "credential",
            "not a WebAuthn credential in the JSON shape of PublicKeyCredential.toJSON()",
        )
    };
    let parsed = serde_json::from_value(credential.clone()).map_err(|_| invalid())?;
    let client_data = credential["response"]["clientDataJSON"]
        .as_str()
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .ok_or_else(invalid)?;
    let challenge = client_data["challenge"]
        .as_str()
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
        .ok_or_else(invalid)?;
    Ok((parsed, challenge))
}

/// Takes the live ceremony of the project that issued `challenge_b64`, with
/// its state restored; a challenge answers once, then is gone.
pub async fn take<T: DeserializeOwned>(
    svc: &Services,
    project_id: &str,
    kind: Kind,
    challenge_b64: &str,
) -> AppResult<(CeremonyRow, T)> {
    let hash = challenge_hash(svc, project_id, challenge_b64);
    let now = Utc::now().timestamp();
    let row = store::take_ceremony(&svc.db, project_id, &hash, kind.key(), now)
        .await?
        .ok_or(AppError::ChallengeInvalid)?;
    let mut state: Value =
        serde_json::from_str(&row.state).map_err(|e| AppError::Internal(e.into()))?;
    state["challenge"] = Value::String(challenge_b64.to_owned());
    let state = serde_json::from_value(state).map_err(|e| AppError::Internal(e.into()))?;
    Ok((row, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_lose_their_wrapper_and_their_null_members() {
        let v = serde_json::json!({"publicKey": {"challenge": "abc", "hints": null, "rp": {"id": "x", "name": null}}, "mediation": null});
        let (inner, challenge) = options_json(&v).unwrap();
        assert_eq!(
            inner,
            serde_json::json!({"challenge": "abc", "rp": {"id": "x"}})
        );
        assert_eq!(challenge, "abc");
    }

    #[test]
    fn an_answer_without_client_data_is_a_validation_error() {
        let err = parse_answer::<Value>(&serde_json::json!({"id": "x"})).unwrap_err();
        assert_eq!(err.code(), "VALIDATION");
    }
}
