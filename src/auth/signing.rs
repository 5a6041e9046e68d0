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
        jwk(&self.kid, &self.x)
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

impl KeyRing {
    /// The keys of a PEM file (`AUTHGRAPH_SIGNING_KEY_FILE`): one or more
    /// unencrypted PKCS#8 Ed25519 private keys, as `openssl genpkey -algorithm
    /// ed25519` writes them. The first signs; every one verifies and is
    /// published, each under its RFC 7638 thumbprint as `kid`.
    pub fn from_pem(text: &str) -> anyhow::Result<Self> {
        let mut ring = KeyRing::default();
        for (i, der) in pem_private_keys(text)?.iter().enumerate() {
            let n = i + 1;
            let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|e| {
                anyhow::anyhow!("key {n} is not a PKCS#8 Ed25519 private key ({e})")
            })?;
            let x = B64URL.encode(pair.public_key().as_ref());
            let kid = thumbprint(&x);
            let decoding =
                DecodingKey::from_ed_components(&x).map_err(|e| anyhow::anyhow!("key {n}: {e}"))?;
            ring.verifiers.insert(kid.clone(), decoding);
            ring.jwks.push(jwk(&kid, &x));
            if ring.signer.is_none() {
                ring.signer = Some((kid, EncodingKey::from_ed_der(der)));
            }
        }
        if ring.signer.is_none() {
            anyhow::bail!(
                "no `-----BEGIN PRIVATE KEY-----` block (an unencrypted PKCS#8 Ed25519 key, \
                 e.g. `openssl genpkey -algorithm ed25519`)"
            );
        }
        Ok(ring)
    }

    /// This ring's signer and keys first, then `stored`'s keys, which still verify.
    pub fn before(&self, stored: KeyRing) -> KeyRing {
        let mut ring = self.clone();
        for (kid, key) in stored.verifiers {
            ring.verifiers.entry(kid).or_insert(key);
        }
        ring.jwks.extend(stored.jwks);
        ring
    }
}

/// The DER documents of the `PRIVATE KEY` blocks of a PEM text.
fn pem_private_keys(text: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let body = &rest[start + BEGIN.len()..];
        let end = body
            .find(END)
            .ok_or_else(|| anyhow::anyhow!("a PRIVATE KEY block has no end line"))?;
        let b64: String = body[..end].split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| anyhow::anyhow!("a PRIVATE KEY block is not base64 ({e})"))?;
        keys.push(der);
        rest = &body[end + END.len()..];
    }
    Ok(keys)
}

/// The RFC 7638 thumbprint of an Ed25519 public key (its JWK's required
/// members, in order, without spaces, SHA-256, base64url).
pub fn thumbprint(x: &str) -> String {
    let members = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64URL.encode(Sha256::digest(members.as_bytes()))
}

fn jwk(kid: &str, x: &str) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": kid,
        "x": x,
    })
}

/// Retires the current key (served until `now + max_ttl_secs`); keys whose
/// last token expired are dropped.
pub fn retire(keys: &mut Vec<StoredKey>, now: i64, max_ttl_secs: i64) {
    keys.retain(|k| k.still_verifies(now));
    for key in keys.iter_mut().filter(|k| k.retired_at.is_none()) {
        key.retired_at = Some(now);
        key.serve_until = Some(now + max_ttl_secs);
    }
}

/// Retires the current key and adds a new one that signs from now on.
pub fn rotate(
    keys: &mut Vec<StoredKey>,
    seal: &SealKey,
    now: i64,
    max_ttl_secs: i64,
) -> anyhow::Result<String> {
    retire(keys, now, max_ttl_secs);
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
    fn a_pem_file_signs_with_its_first_key_under_its_rfc_7638_thumbprint() {
        use base64::engine::general_purpose::STANDARD;
        let pem = |pair: &Ed25519KeyPair| {
            let der = STANDARD.encode(pair.to_pkcs8().unwrap().as_ref());
            format!("-----BEGIN PRIVATE KEY-----\n{der}\n-----END PRIVATE KEY-----\n")
        };
        let (a, b) = (
            Ed25519KeyPair::generate().unwrap(),
            Ed25519KeyPair::generate().unwrap(),
        );
        let ring = KeyRing::from_pem(&format!("{}{}", pem(&a), pem(&b))).unwrap();
        let x = B64URL.encode(a.public_key().as_ref());
        assert_eq!(ring.signer.as_ref().unwrap().0, thumbprint(&x));
        assert_eq!((ring.verifiers.len(), ring.jwks.len()), (2, 2));
        // RFC 8037 appendix A.3: the thumbprint of its example key.
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----",
        ] {
            assert!(KeyRing::from_pem(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_sealed_under_another_secret_does_not_open() {
        let keys = vec![StoredKey::generate(&seal(), 1).unwrap()];
        let other = SealKey::derive(b"another-secret-another-secret-xx");
        assert!(KeyRing::open(&keys, &other, 2).is_err());
    }
}
