//! One-time codes sent by email: a long token for links and a six-digit code
//! to type. The database holds only their HMACs under a key derived from the
//! server secret, so a stolen table yields neither.
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct CodeKey {
    key: Vec<u8>,
}

impl CodeKey {
    /// Derived from the server secret, separated from the other keys.
    pub fn derive(secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"authgraph one-time-code key v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    /// The stored form of `code` within `scope` (a six-digit code is scoped
    /// to its user, so equal codes of two users differ).
    pub fn hash(&self, scope: &str, code: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(scope.as_bytes());
        mac.update(&[0]);
        mac.update(code.trim().as_bytes());
        hex::encode(mac.finalize().into_bytes())
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
        assert_eq!(a.hash("u1", "123456"), a.hash("u1", " 123456 "));
        assert_ne!(a.hash("u1", "123456"), a.hash("u2", "123456"));
        assert_ne!(a.hash("u1", "123456"), a.hash("u1", "123457"));
        assert_ne!(a.hash("u1", "123456"), b.hash("u1", "123456"));
        let otp = new_otp();
        assert_eq!(otp.len(), 6);
        assert!(otp.bytes().all(|c| c.is_ascii_digit()));
    }
}
