//! Keys derived from the server secret, one per purpose, and the HMACs made
//! with them.
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA256 key derived from the server secret for one purpose.
#[derive(Clone)]
pub struct DerivedKey {
    key: Vec<u8>,
}

impl DerivedKey {
    /// The key of `purpose` (a versioned label): keys of different purposes
    /// are independent, so one never verifies what another signed.
    pub fn derive(secret: &[u8], purpose: &[u8]) -> Self {
        Self {
            key: hmac(secret, &[purpose]),
        }
    }

    /// The HMAC of `parts`, concatenated, under this key.
    pub fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        hmac(&self.key, parts)
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}
