//! Firebase Auth: the JSON of `firebase auth:export users.json --format=json`,
//! whose `passwordHash`/`salt` are Firebase's modified scrypt under the
//! project's hash parameters (given by flags or a JSON file).
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::identities::SourceIdentity;
use super::{Candidate, ImportRow, parse_time};
use crate::auth::legacy::{FirebaseParams, firebase_phc};
use crate::domain::oauth::config::ProviderKind;

/// The project's parameters as Firebase shows them (`base64_signer_key`, …);
/// camelCase names are accepted too.
#[derive(Deserialize)]
struct ParamsFile {
    #[serde(alias = "signerKey")]
    base64_signer_key: String,
    #[serde(alias = "saltSeparator")]
    base64_salt_separator: String,
    rounds: u32,
    #[serde(alias = "memCost", alias = "memoryCost")]
    mem_cost: u8,
}

/// The hash parameters from base64 texts and numbers (the CLI flags).
pub fn params(
    signer_key: &str,
    salt_separator: &str,
    rounds: u32,
    mem_cost: u8,
) -> anyhow::Result<FirebaseParams> {
    Ok(FirebaseParams {
        signer_key: B64
            .decode(signer_key.trim())
            .context("the signer key is not base64")?,
        salt_separator: B64
            .decode(salt_separator.trim())
            .context("the salt separator is not base64")?,
        rounds,
        mem_cost,
    })
}

/// The hash parameters from a JSON file.
pub fn params_from_file(path: &Path) -> anyhow::Result<FirebaseParams> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let p: ParamsFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected {{base64_signer_key, base64_salt_separator, rounds, mem_cost}}",
            path.display()
        )
    })?;
    params(
        &p.base64_signer_key,
        &p.base64_salt_separator,
        p.rounds,
        p.mem_cost,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    users: Vec<Map<String, Value>>,
}

fn string(user: &Map<String, Value>, key: &str) -> String {
    user.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// One exported user. Its profile keeps `displayName`, `photoUrl`,
/// `phoneNumber` and the custom claims (`customAttributes`).
fn row(user: Map<String, Value>, params: &FirebaseParams) -> Candidate {
    let (hash, salt) = (string(&user, "passwordHash"), string(&user, "salt"));
    let password_hash = if hash.is_empty() {
        String::new()
    } else {
        let (Ok(hash), Ok(salt)) = (B64.decode(&hash), B64.decode(&salt)) else {
            return Err("password hash or salt not base64".into());
        };
        firebase_phc(params, &salt, &hash)
    };
    let mut data = Map::new();
    for key in ["displayName", "photoUrl", "phoneNumber"] {
        if let Some(v) = user.get(key).filter(|v| !v.is_null()) {
            data.insert(key.into(), v.clone());
        }
    }
    if let Ok(Value::Object(claims)) = serde_json::from_str(&string(&user, "customAttributes")) {
        data.extend(claims);
    }
    let (identities, identities_skipped) = provider_accounts(&user);
    let number_or_text = |key: &str| match user.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        _ => string(&user, key),
    };
    Ok(ImportRow {
        id: Some(string(&user, "localId")).filter(|s| !s.is_empty()),
        email: string(&user, "email"),
        password_hash,
        verified: user
            .get("emailVerified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        disabled: user
            .get("disabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        data,
        created_at: parse_time(&number_or_text("createdAt")),
        updated_at: None,
        identities,
        identities_skipped,
    })
}

/// The user's `providerUserInfo`: accounts of Google, Apple and GitHub to
/// link (`rawId` is the provider's own account id, the `sub` authgraph sees
/// at sign-in), and why the others are not linked. The `password` entry is
/// the password itself, imported as the hash.
fn provider_accounts(user: &Map<String, Value>) -> (Vec<SourceIdentity>, Vec<String>) {
    let (mut linked, mut skipped) = (Vec::new(), Vec::new());
    let entries = user.get("providerUserInfo").and_then(Value::as_array);
    for info in entries.into_iter().flatten().filter_map(Value::as_object) {
        let provider = string(info, "providerId");
        let kind = match provider.as_str() {
            "password" => continue,
            "google.com" => ProviderKind::Google,
            "apple.com" => ProviderKind::Apple,
            "github.com" => ProviderKind::Github,
            _ => {
                skipped.push(format!(
                    "{provider}: not a provider authgraph signs in with"
                ));
                continue;
            }
        };
        let subject = string(info, "rawId");
        if subject.is_empty() {
            skipped.push(format!("{provider}: no rawId"));
            continue;
        }
        let email = Some(string(info, "email")).filter(|e| !e.is_empty());
        linked.push(SourceIdentity {
            kind,
            subject,
            email,
        });
    }
    (linked, skipped)
}

/// Reads an `auth:export` JSON file.
pub fn read(path: &Path, params: &FirebaseParams) -> anyhow::Result<Vec<Candidate>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let export: Export = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a Firebase auth:export JSON file", path.display()))?;
    Ok(export.users.into_iter().map(|u| row(u, params)).collect())
}
