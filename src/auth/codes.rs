//! One-time codes sent by email: a long token for links and a six-digit code
//! to type. The database holds only their HMACs under a key derived from the
//! server secret, so a stolen table yields neither.
use rand::Rng;

use super::derived::DerivedKey;

#[derive(Clone)]
pub struct CodeKey {
    key: DerivedKey,
}

impl CodeKey {
    /// Derived from the server secret, separated from the other keys.
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            key: DerivedKey::derive(secret, b"authgraph one-time-code key v1"),
        }
    }

    /// The stored form of `code` within `scope` (a six-digit code is scoped
    /// to its user, so equal codes of two users differ).
    pub fn hash(&self, scope: &str, code: &str) -> String {
        hex::encode(
            self.key
                .mac(&[scope.as_bytes(), &[0], code.trim().as_bytes()]),
        )
    }
}

/// Six uniformly random digits.
pub fn new_otp() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_depend_on_key_scope_and_code() {
        let a = CodeKey::derive(b"secret one");
        let b = CodeKey::derive(b"secret two");
        // Codes already stored must keep matching: the hash is HMAC-SHA256 of
        // `scope NUL code` under HMAC(secret, label).
        assert_eq!(
            a.hash("u1", "123456"),
            "111f19fc067e845e83eba940cc550a31cff00536fe75eb453be7e9d07a39f6bb"
        );
        assert_eq!(a.hash("u1", "123456"), a.hash("u1", " 123456 "));
        assert_ne!(a.hash("u1", "123456"), a.hash("u2", "123456"));
        assert_ne!(a.hash("u1", "123456"), a.hash("u1", "123457"));
        assert_ne!(a.hash("u1", "123456"), b.hash("u1", "123456"));
        let otp = new_otp();
        assert_eq!(otp.len(), 6);
        assert!(otp.bytes().all(|c| c.is_ascii_digit()));
    }
}
