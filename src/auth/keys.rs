//! Project API keys (`pk_live_…`, `sk_live_…`): random, shown once, stored as SHA-256.
use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const PUBLISHABLE_PREFIX: &str = "pk_live_";
pub const SECRET_PREFIX: &str = "sk_live_";

/// Which kind of key a caller presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Publishable,
    Secret,
}

impl KeyKind {
    /// Recognises a key by its prefix.
    pub fn of(key: &str) -> Option<KeyKind> {
        if key.starts_with(PUBLISHABLE_PREFIX) {
            Some(KeyKind::Publishable)
        } else if key.starts_with(SECRET_PREFIX) {
            Some(KeyKind::Secret)
        } else {
            None
        }
    }
}

/// A random alphanumeric string from the OS CSPRNG.
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new key of the given kind: prefix + 40 alphanumerics (~238 bits).
pub fn generate(kind: KeyKind) -> String {
    let prefix = match kind {
        KeyKind::Publishable => PUBLISHABLE_PREFIX,
        KeyKind::Secret => SECRET_PREFIX,
    };
    format!("{prefix}{}", random_token(40))
}

/// Hex SHA-256 of a key: keys carry enough entropy that a fast hash is safe.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Constant-time equality of two secrets.
pub fn ct_eq(a: &str, b: &str) -> bool {
    ct_eq_bytes(a.as_bytes(), b.as_bytes())
}

/// Constant-time equality of byte strings (false when the lengths differ).
pub fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A URL-safe lowercase id of 15 characters, as PocketBase uses.
pub fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..15)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_prefixes_and_distinct_hashes() {
        let pk = generate(KeyKind::Publishable);
        let sk = generate(KeyKind::Secret);
        assert_eq!(KeyKind::of(&pk), Some(KeyKind::Publishable));
        assert_eq!(KeyKind::of(&sk), Some(KeyKind::Secret));
        assert_eq!(pk.len(), 48);
        assert_ne!(hash(&pk), hash(&sk));
        assert_eq!(hash(&pk).len(), 64);
        assert!(ct_eq(&hash(&pk), &hash(&pk)));
        assert!(!ct_eq(&hash(&pk), &hash(&sk)));
    }

    #[test]
    fn ids_are_url_safe_and_15_long() {
        let id = new_id();
        assert_eq!(id.len(), 15);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
    }
}
