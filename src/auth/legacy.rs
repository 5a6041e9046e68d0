//! Password hashes made by other systems, kept on import and verified by their
//! own algorithm until the next successful log-in rehashes them to argon2id:
//! bcrypt (`$2a$`, `$2b$`, `$2y$`: PocketBase, Supabase) and Firebase's
//! modified scrypt (`$firebase-scrypt$…`, see [`firebase_phc`]).
use aes::cipher::{KeyIvInit, StreamCipher};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::keys::ct_eq_bytes;

/// Highest bcrypt cost verified (each step doubles the work; 10–12 is usual).
const MAX_BCRYPT_COST: u32 = 15;
/// Highest Firebase `mem_cost` (log2 of scrypt's N) and `rounds` (its r) verified.
const MAX_FIREBASE_MEM_COST: u8 = 16;
const MAX_FIREBASE_ROUNDS: u32 = 32;
const FIREBASE_PREFIX: &str = "$firebase-scrypt$";

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;

/// The hash schemes this module verifies.
#[derive(Debug, PartialEq, Eq)]
pub enum Scheme {
    Bcrypt,
    FirebaseScrypt,
}

/// Which legacy scheme `stored` is in, if any.
pub fn scheme(stored: &str) -> Option<Scheme> {
    if ["$2a$", "$2b$", "$2y$"]
        .iter()
        .any(|p| stored.starts_with(p))
    {
        Some(Scheme::Bcrypt)
    } else if stored.starts_with(FIREBASE_PREFIX) {
        Some(Scheme::FirebaseScrypt)
    } else {
        None
    }
}

/// Whether `password` matches a legacy hash; unparsable or absurdly costly
/// hashes never match. Blocking: call it off the async executor.
pub fn verify(password: &[u8], stored: &str) -> bool {
    match scheme(stored) {
        Some(Scheme::Bcrypt) => verify_bcrypt(password, stored),
        Some(Scheme::FirebaseScrypt) => verify_firebase(password, stored),
        None => false,
    }
}

fn verify_bcrypt(password: &[u8], stored: &str) -> bool {
    let Ok(parts) = stored.parse::<bcrypt::HashParts>() else {
        return false;
    };
    if parts.get_cost() > MAX_BCRYPT_COST {
        return false;
    }
    // The crate compares in constant time.
    bcrypt::verify(password, stored).unwrap_or(false)
}

/// Firebase's hash parameters of a project (Authentication → Users →
/// "Password hash parameters").
#[derive(Clone, Debug)]
pub struct FirebaseParams {
    pub signer_key: Vec<u8>,
    pub salt_separator: Vec<u8>,
    pub rounds: u32,
    pub mem_cost: u8,
}

/// Firebase's modified scrypt: the key derived by scrypt(password, salt ‖
/// separator, N = 2^mem_cost, r = rounds, p = 1, 32 bytes) encrypts the
/// project's signer key with AES-256-CTR (zero IV); that ciphertext is the hash.
pub fn firebase_hash(password: &[u8], salt: &[u8], p: &FirebaseParams) -> Option<Vec<u8>> {
    if p.mem_cost > MAX_FIREBASE_MEM_COST || p.rounds == 0 || p.rounds > MAX_FIREBASE_ROUNDS {
        return None;
    }
    let params = scrypt::Params::new(p.mem_cost, p.rounds, 1, 32).ok()?;
    let mut salted = salt.to_vec();
    salted.extend_from_slice(&p.salt_separator);
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salted, &params, &mut key).ok()?;
    let mut out = p.signer_key.clone();
    Aes256Ctr::new(&key.into(), &[0u8; 16].into()).apply_keystream(&mut out);
    Some(out)
}

/// The stored form of a Firebase hash with its parameters:
/// `$firebase-scrypt$m=14,r=8$<separator>$<signer key>$<salt>$<hash>` (base64).
pub fn firebase_phc(p: &FirebaseParams, salt: &[u8], hash: &[u8]) -> String {
    format!(
        "{FIREBASE_PREFIX}m={},r={}${}${}${}${}",
        p.mem_cost,
        p.rounds,
        B64.encode(&p.salt_separator),
        B64.encode(&p.signer_key),
        B64.encode(salt),
        B64.encode(hash)
    )
}

fn parse_firebase(stored: &str) -> Option<(FirebaseParams, Vec<u8>, Vec<u8>)> {
    let rest = stored.strip_prefix(FIREBASE_PREFIX)?;
    let mut parts = rest.split('$');
    let (mut mem_cost, mut rounds) = (None, None);
    for pair in parts.next()?.split(',') {
        match pair.split_once('=')? {
            ("m", v) => mem_cost = v.parse().ok(),
            ("r", v) => rounds = v.parse().ok(),
            _ => return None,
        }
    }
    let mut next = || parts.next().and_then(|p| B64.decode(p).ok());
    let (salt_separator, signer_key, salt, hash) = (next()?, next()?, next()?, next()?);
    let params = FirebaseParams {
        signer_key,
        salt_separator,
        rounds: rounds?,
        mem_cost: mem_cost?,
    };
    Some((params, salt, hash))
}

fn verify_firebase(password: &[u8], stored: &str) -> bool {
    let Some((params, salt, expected)) = parse_firebase(stored) else {
        return false;
    };
    firebase_hash(password, &salt, &params).is_some_and(|h| ct_eq_bytes(&h, &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published test values of `firebase-scrypt` (its README and tests):
    /// a user exported by `firebase auth:export` with the project's parameters.
    fn firebase_vector() -> (FirebaseParams, Vec<u8>, Vec<u8>) {
        let params = FirebaseParams {
            signer_key: B64
                .decode("jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==")
                .unwrap(),
            salt_separator: B64.decode("Bw==").unwrap(),
            rounds: 8,
            mem_cost: 14,
        };
        let salt = B64.decode("42xEC+ixf3L2lw==").unwrap();
        let hash = B64
            .decode("lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==")
            .unwrap();
        (params, salt, hash)
    }

    #[test]
    fn firebase_scrypt_matches_the_published_test_vector() {
        let (params, salt, hash) = firebase_vector();
        assert_eq!(
            firebase_hash(b"user1password", &salt, &params).unwrap(),
            hash
        );
        let stored = firebase_phc(&params, &salt, &hash);
        assert_eq!(scheme(&stored), Some(Scheme::FirebaseScrypt));
        assert!(verify(b"user1password", &stored));
        assert!(!verify(b"user1passwore", &stored));
        // Tampered or absurd parameters never match.
        assert!(!verify(b"user1password", &stored.replace("m=14", "m=40")));
        assert!(!verify(b"user1password", "$firebase-scrypt$m=14,r=8$$$"));
    }

    #[test]
    fn bcrypt_hashes_of_pocketbase_and_supabase_verify_and_costly_ones_are_refused() {
        let stored = bcrypt::hash_with_salt("hunter22", 4, [7u8; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert_eq!(scheme(&stored), Some(Scheme::Bcrypt));
        assert!(verify(b"hunter22", &stored));
        assert!(!verify(b"hunter23", &stored));
        assert!(!verify(b"hunter22", &stored.replacen("$04$", "$31$", 1)));
        assert!(!verify(b"x", "$2a$garbage"));
    }
}
