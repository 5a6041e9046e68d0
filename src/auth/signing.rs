//! Ed25519 keys that sign access tokens, so other services can verify them
//! with the public half alone (`/.well-known/jwks.json`).
//!
//! The private halves are stored sealed (AES-256-GCM under a key derived from
//! the server secret), so a copy of the database alone cannot sign tokens.
use std::collections::HashMap;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::seal::SealKey;

/// One key as stored: the public half in the clear, the private half sealed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredKey {
    /// Key id (`kid`): the base64url SHA-256 of the public key, shortened.
    pub kid: String,
    /// The raw 32-byte public key, base64url (the JWK `x`).
    pub x: String,
    /// The PKCS#8 document, sealed for this `kid`.
    pub sealed: String,
    pub created_at: i64,
    /// When a newer key replaced this one; it still verifies until `serve_until`.
    #[serde(default)]
    pub retired_at: Option<i64>,
    /// After this time no token signed by this key can still be valid.
    #[serde(default)]
    pub serve_until: Option<i64>,
}

fn owner(kid: &str) -> String {
    format!("signing-key:{kid}")
}

impl StoredKey {
    /// A fresh key pair, its private half sealed with `seal`.
    pub fn generate(seal: &SealKey, now: i64) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::generate()
            .map_err(|_| anyhow::anyhow!("generating an Ed25519 key failed"))?;
        let pkcs8 = pair
            .to_pkcs8()
            .map_err(|_| anyhow::anyhow!("encoding the Ed25519 key failed"))?;
        let public = pair.public_key().as_ref();
        let kid = B64URL.encode(&Sha256::digest(public)[..12]);
        Ok(Self {
            x: B64URL.encode(public),
            sealed: seal.seal(&owner(&kid), pkcs8.as_ref()),
            kid,
            created_at: now,
            retired_at: None,
            serve_until: None,
        })
    }

    /// Whether a token signed by this key may still be unexpired at `now`.
    pub fn still_verifies(&self, now: i64) -> bool {
        self.serve_until.is_none_or(|until| until > now)
    }

    /// The public key as a JWK (RFC 8037).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": self.x,
        })
    }
}

/// The keys in use: the newest signs, every one still valid verifies.
#[derive(Clone, Default)]
pub struct KeyRing {
    pub signer: Option<(String, EncodingKey)>,
    pub verifiers: HashMap<String, DecodingKey>,
    pub jwks: Vec<serde_json::Value>,
}

impl KeyRing {
    /// Opens the stored keys: the newest unretired key signs; retired keys
    /// past `serve_until` are dropped. A key that does not open (another
    /// server secret) is an error naming the fix.
    pub fn open(keys: &[StoredKey], seal: &SealKey, now: i64) -> anyhow::Result<Self> {
        let mut ring = KeyRing::default();
        for key in keys.iter().filter(|k| k.still_verifies(now)) {
            let decoding = DecodingKey::from_ed_components(&key.x)
                .map_err(|e| anyhow::anyhow!("signing key {}: {e}", key.kid))?;
            ring.verifiers.insert(key.kid.clone(), decoding);
            ring.jwks.push(key.jwk());
        }
        let newest = keys
            .iter()
            .filter(|k| k.retired_at.is_none())
            .max_by_key(|k| k.created_at);
        if let Some(key) = newest {
            let pkcs8 = seal.open(&owner(&key.kid), &key.sealed).ok_or_else(|| {
                anyhow::anyhow!(
                    "signing key {} does not open with this server secret \
                     (restore the secret, or run `authgraph keys rotate`)",
                    key.kid
                )
            })?;
            Ed25519KeyPair::from_pkcs8(&pkcs8)
                .map_err(|e| anyhow::anyhow!("signing key {}: {e}", key.kid))?;
            ring.signer = Some((key.kid.clone(), EncodingKey::from_ed_der(&pkcs8)));
        }
        Ok(ring)
    }
}

/// Retires the current key (served until `now + max_ttl_secs`) and adds a new
/// one that signs from now on. Keys whose last token expired are dropped.
pub fn rotate(
    keys: &mut Vec<StoredKey>,
    seal: &SealKey,
    now: i64,
    max_ttl_secs: i64,
) -> anyhow::Result<String> {
    keys.retain(|k| k.still_verifies(now));
    for key in keys.iter_mut().filter(|k| k.retired_at.is_none()) {
        key.retired_at = Some(now);
        key.serve_until = Some(now + max_ttl_secs);
    }
    let fresh = StoredKey::generate(seal, now)?;
    let kid = fresh.kid.clone();
    keys.push(fresh);
    Ok(kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal() -> SealKey {
        SealKey::derive(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn rotation_keeps_the_old_key_verifying_until_its_tokens_expire() {
        let mut keys = vec![StoredKey::generate(&seal(), 100).unwrap()];
        let first = keys[0].kid.clone();
        let second = rotate(&mut keys, &seal(), 200, 50).unwrap();
        let ring = KeyRing::open(&keys, &seal(), 210).unwrap();
        assert_eq!(ring.signer.as_ref().unwrap().0, second);
        assert!(ring.verifiers.contains_key(&first));
        assert_eq!(ring.jwks.len(), 2);
        let later = KeyRing::open(&keys, &seal(), 251).unwrap();
        assert!(!later.verifiers.contains_key(&first));
        assert_eq!(later.jwks.len(), 1);
    }

    #[test]
    fn a_key_sealed_under_another_secret_does_not_open() {
        let keys = vec![StoredKey::generate(&seal(), 1).unwrap()];
        let other = SealKey::derive(b"another-secret-another-secret-xx");
        assert!(KeyRing::open(&keys, &other, 2).is_err());
    }
}
