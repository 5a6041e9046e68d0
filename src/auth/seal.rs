//! Secrets the server must read back (TOTP secrets), sealed with AES-256-GCM
//! under a key derived from the server secret and bound to their owner.
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use rand::RngCore;

use super::derived::DerivedKey;

#[derive(Clone)]
pub struct SealKey {
    key: Vec<u8>,
}

impl SealKey {
    /// Derived from the server secret, separated from the other keys.
    pub fn derive(secret: &[u8]) -> Self {
        Self::derive_for(secret, b"authgraph sealed-secret key v1")
    }

    /// A key of its own for another use (`label`), so one use's ciphertexts
    /// never open under another's key.
    pub fn derive_for(secret: &[u8], label: &[u8]) -> Self {
        let key = DerivedKey::derive(secret, label).mac(&[b"aes-256-gcm"]);
        Self { key }
    }

    fn cipher(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key).expect("a 32-byte key"))
    }

    /// `plain` sealed for `owner` (a random nonce, then ciphertext and tag).
    pub fn seal(&self, owner: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut buf = plain.to_vec();
        self.cipher()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner.as_bytes()),
                &mut buf,
            )
            .expect("sealing cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        B64.encode(out)
    }

    /// The plain text of what `seal` made for the same owner; `None` when it
    /// was altered, sealed for someone else or under another server secret.
    pub fn open(&self, owner: &str, sealed: &str) -> Option<Vec<u8>> {
        let raw = B64.decode(sealed).ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .cipher()
            .open_in_place(nonce, Aad::from(owner.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_owner_and_key() {
        let k = SealKey::derive(b"server secret");
        let sealed = k.seal("u1", b"totp secret");
        assert!(!sealed.contains("totp"));
        assert_eq!(k.open("u1", &sealed).as_deref(), Some(&b"totp secret"[..]));
        assert_eq!(k.open("u2", &sealed), None);
        assert_eq!(SealKey::derive(b"other").open("u1", &sealed), None);
        assert_ne!(k.seal("u1", b"x"), k.seal("u1", b"x"));
    }
}
