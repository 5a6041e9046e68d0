//! Refresh tokens: `<session>.<counter>.<mac>`, where the MAC binds the session,
//! the rotation counter and a per-session nonce to a server key. Nothing that
//! reveals a token is stored: the database holds only the nonce and counter, and
//! the token of the current counter can be recomputed, which lets two racing
//! refreshes both receive the same successor.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::derived::DerivedKey;

/// Signs refresh tokens.
#[derive(Clone)]
pub struct RefreshKey {
    key: DerivedKey,
}

/// A parsed, not yet verified refresh token.
#[derive(Debug, PartialEq, Eq)]
pub struct RefreshParts<'a> {
    pub session_id: &'a str,
    pub counter: i64,
    pub mac: &'a str,
}

impl RefreshKey {
    /// Derives the refresh key from the server secret (domain-separated from JWTs).
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            key: DerivedKey::derive(secret, b"authgraph refresh-token key v1"),
        }
    }

    fn mac(&self, session_id: &str, counter: i64, nonce: &str) -> String {
        let signed = format!("{session_id}.{counter}.{nonce}");
        URL_SAFE_NO_PAD.encode(self.key.mac(&[signed.as_bytes()]))
    }

    /// The refresh token of a session at a counter.
    pub fn token(&self, session_id: &str, counter: i64, nonce: &str) -> String {
        format!(
            "{session_id}.{counter}.{}",
            self.mac(session_id, counter, nonce)
        )
    }

    /// Checks the MAC in constant time.
    pub fn verify(&self, parts: &RefreshParts<'_>, nonce: &str) -> bool {
        crate::auth::keys::ct_eq(&self.mac(parts.session_id, parts.counter, nonce), parts.mac)
    }
}

/// Splits a token; `None` when it is not of our form.
pub fn parse(token: &str) -> Option<RefreshParts<'_>> {
    let mut it = token.trim().splitn(3, '.');
    let session_id = it.next().filter(|s| !s.is_empty() && s.len() <= 32)?;
    let counter = it.next()?.parse().ok().filter(|c: &i64| *c >= 0)?;
    let mac = it.next().filter(|m| m.len() == 43)?;
    Some(RefreshParts {
        session_id,
        counter,
        mac,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_nonce_counter_and_key() {
        let key = RefreshKey::derive(b"server secret server secret 0123");
        let t = key.token("sess1", 3, "nonce");
        // Issued tokens must stay valid: the MAC is HMAC-SHA256 of
        // `session.counter.nonce` under HMAC(secret, label).
        assert_eq!(t, "sess1.3.eJCMjAZrXAuEciXTCohV8PxlmdB4c0kiDuOCI1zvR18");
        let parts = parse(&t).unwrap();
        assert_eq!((parts.session_id, parts.counter), ("sess1", 3));
        assert!(key.verify(&parts, "nonce"));
        assert!(!key.verify(&parts, "other nonce"));
        let other = RefreshKey::derive(b"another secret another secret 01");
        assert!(!other.verify(&parts, "nonce"));
        let forged = format!("sess1.4.{}", parts.mac);
        assert!(!key.verify(&parse(&forged).unwrap(), "nonce"));
        assert!(parse("garbage").is_none());
        assert!(parse("a.-1.xyz").is_none());
    }
}
