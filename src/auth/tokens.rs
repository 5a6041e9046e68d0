//! Signed JWTs: EdDSA (Ed25519, published as a JWKS) once keys are installed,
//! HS256 before; both algorithms are pinned per key on decode.
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::Utc;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
};
use serde::{Deserialize, Serialize};

use super::signing::KeyRing;
use crate::error::{AppError, AppResult};

/// The `iss` of every token (and of the discovery document).
pub const ISSUER: &str = "authgraph";

/// What a token is for; a token of one kind is never accepted as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A user's access token.
    Access,
    /// A superuser's access token.
    Superuser,
    /// A short-lived token that reads protected files (and nothing else).
    File,
}

/// The claims of every token authgraph signs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The user (or superuser) id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub kind: TokenKind,
    /// Project id; empty for superusers.
    pub pid: String,
    /// Collection id (PocketBase's SDK reads `collectionId`).
    #[serde(rename = "collectionId")]
    pub collection_id: String,
    /// The user's token version when issued; a bump revokes the token.
    pub tv: i64,
    /// Session id (empty for superusers).
    #[serde(default)]
    pub sid: String,
    /// PocketBase's SDK reads `id`, `type` and `refreshable` from the payload.
    pub id: String,
    #[serde(rename = "type")]
    pub token_type: String,
    pub refreshable: bool,
}

/// Signs tokens with the newest Ed25519 key (HS256 until keys are installed)
/// and verifies tokens of every key still served, and HS256 tokens issued
/// before the switch until they expire.
#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ed_validation: Validation,
    ring: Arc<RwLock<KeyRing>>,
    /// The keys of `AUTHGRAPH_SIGNING_KEY_FILE`, which sign instead of the stored ones.
    configured: Option<Arc<KeyRing>>,
}

/// What a new token says about its subject.
pub struct TokenSubject<'a> {
    pub kind: TokenKind,
    pub user_id: &'a str,
    pub project_id: &'a str,
    pub collection_id: &'a str,
    pub token_version: i64,
    pub session_id: &'a str,
    pub ttl_secs: i64,
}

impl TokenService {
    pub fn new(secret: &[u8]) -> Self {
        let validation_for = |alg| {
            let mut validation = Validation::new(alg);
            validation.set_issuer(&[ISSUER]);
            validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
            validation.leeway = 5;
            validation
        };
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: validation_for(Algorithm::HS256),
            ed_validation: validation_for(Algorithm::EdDSA),
            ring: Arc::default(),
            configured: None,
        }
    }

    /// Signs with the configured keys from now on; stored keys installed
    /// later still verify and are published after them.
    pub fn configure(&mut self, keys: KeyRing) {
        self.configured = Some(Arc::new(keys));
    }

    /// The `kid` of the configured signing key, when there is one.
    pub fn configured_kid(&self) -> Option<&str> {
        let (kid, _) = self.configured.as_ref()?.signer.as_ref()?;
        Some(kid)
    }

    /// Replaces the asymmetric keys (at start, and when a rotation is seen).
    pub fn install(&self, ring: KeyRing) {
        let ring = match &self.configured {
            Some(configured) => configured.before(ring),
            None => ring,
        };
        if let Ok(mut current) = self.ring.write() {
            *current = ring;
        }
    }

    /// The public keys still served, as a JWK Set.
    pub fn jwks(&self) -> serde_json::Value {
        let keys = self.ring.read().map(|r| r.jwks.clone()).unwrap_or_default();
        serde_json::json!({ "keys": keys })
    }

    /// Signs a token for the subject.
    pub fn issue(&self, s: &TokenSubject<'_>) -> AppResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: s.user_id.into(),
            iat: now,
            exp: now + s.ttl_secs,
            kind: s.kind,
            pid: s.project_id.into(),
            collection_id: s.collection_id.into(),
            tv: s.token_version,
            sid: s.session_id.into(),
            id: s.user_id.into(),
            token_type: "auth".into(),
            refreshable: true,
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims (tests use this to forge expired tokens).
    pub fn sign(&self, claims: &Claims) -> AppResult<String> {
        let ring = self
            .ring
            .read()
            .map_err(|_| AppError::internal(anyhow::anyhow!("the key ring lock is poisoned")))?;
        match &ring.signer {
            Some((kid, key)) => {
                let mut header = Header::new(Algorithm::EdDSA);
                header.kid = Some(kid.clone());
                encode(&header, claims, key)
            }
            None => encode(&Header::new(Algorithm::HS256), claims, &self.encoding),
        }
        .map_err(AppError::internal)
    }

    /// Signs with the HS256 secret, as before asymmetric keys (tests forge
    /// tokens issued before the switch with it).
    pub fn sign_legacy(&self, claims: &Claims) -> AppResult<String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding).map_err(AppError::internal)
    }

    /// Verifies signature, algorithm, issuer and expiry. The header picks the
    /// key (`kid`); each key accepts only its own algorithm.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        let header = decode_header(token).map_err(|_| AppError::InvalidToken)?;
        let decoded = match (header.alg, header.kid) {
            (Algorithm::HS256, _) => decode::<Claims>(token, &self.decoding, &self.validation),
            (Algorithm::EdDSA, Some(kid)) => {
                let ring = self.ring.read().map_err(|_| AppError::InvalidToken)?;
                let key = ring.verifiers.get(&kid).ok_or(AppError::InvalidToken)?;
                decode::<Claims>(token, key, &self.ed_validation)
            }
            _ => return Err(AppError::InvalidToken),
        };
        decoded
            .map(|d| d.claims)
            .map_err(|_| AppError::InvalidToken)
    }
}

/// Reads the signing secret from the data directory, creating it (0600) on first start.
pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    let path = data_dir.join("jwt_secret");
    if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (set AUTHGRAPH_JWT_SECRET or fix its permissions)",
                path.display()
            )
        })?;
        let secret = text.trim().as_bytes().to_vec();
        anyhow::ensure!(
            secret.len() >= 32,
            "{} holds fewer than 32 bytes; delete it to regenerate",
            path.display()
        );
        return Ok(secret);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating AUTHGRAPH_DATA_DIR {}", data_dir.display()))?;
    let secret = crate::auth::keys::random_token(64);
    write_private(&path, secret.as_bytes())
        .with_context(|| format!("writing {} (check AUTHGRAPH_DATA_DIR)", path.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn svc() -> TokenService {
        TokenService::new(b"0123456789abcdef0123456789abcdef")
    }

    fn subject() -> TokenSubject<'static> {
        TokenSubject {
            kind: TokenKind::Access,
            user_id: "u1",
            project_id: "p1",
            collection_id: "c1",
            token_version: 3,
            session_id: "s1",
            ttl_secs: 60,
        }
    }

    #[test]
    fn round_trip_keeps_claims() {
        let t = svc().issue(&subject()).unwrap();
        let c = svc().verify(&t).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.pid.as_str(), c.tv, c.kind),
            ("u1", "p1", 3, TokenKind::Access)
        );
    }

    #[test]
    fn alg_none_and_other_keys_are_refused() {
        let t = svc().issue(&subject()).unwrap();
        let payload = t.split('.').nth(1).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(svc().verify(&format!("{none_header}.{payload}.")).is_err());
        let other = TokenService::new(b"another-secret-another-secret-xx");
        assert!(svc().verify(&other.issue(&subject()).unwrap()).is_err());
    }

    #[test]
    fn ed25519_tokens_verify_and_hs256_tokens_from_before_the_switch_still_do() {
        use crate::auth::seal::SealKey;
        use crate::auth::signing::{KeyRing, StoredKey};
        let seal = SealKey::derive(b"0123456789abcdef0123456789abcdef");
        let svc = svc();
        let before = svc.issue(&subject()).unwrap();
        let keys = vec![StoredKey::generate(&seal, 0).unwrap()];
        svc.install(KeyRing::open(&keys, &seal, 0).unwrap());
        let after = svc.issue(&subject()).unwrap();
        let header = decode_header(&after).unwrap();
        assert_eq!(header.alg, Algorithm::EdDSA);
        assert_eq!(header.kid.as_deref(), Some(keys[0].kid.as_str()));
        assert_eq!(svc.verify(&after).unwrap().sub, "u1");
        assert_eq!(svc.verify(&before).unwrap().sub, "u1");
        // A server without the key refuses the token.
        assert!(self::svc().verify(&after).is_err());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let mut s = subject();
        s.ttl_secs = -120;
        let t = svc().issue(&s).unwrap();
        assert!(matches!(svc().verify(&t), Err(AppError::InvalidToken)));
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
