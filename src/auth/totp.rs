//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, six digits, 30-second
//! steps), their secrets in base32, the `otpauth://` URI and its QR code.
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

use super::keys::ct_eq;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Steps accepted either side of the server's (clock drift).
pub const WINDOW: i64 = 1;
const DIGITS: u32 = 6;

/// A new 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::rng().fill_bytes(&mut s);
    s
}

/// The step a Unix time falls in.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code of `step` with `digits` digits (RFC 4226 dynamic truncation).
fn code_digits(secret: &[u8], step: i64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let off = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[off] & 0x7f, h[off + 1], h[off + 2], h[off + 3]]);
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

/// The six-digit code of `step`.
pub fn code_at(secret: &[u8], step: i64) -> String {
    code_digits(secret, step, DIGITS)
}

/// The step within ±`WINDOW` of `now_step` whose code is `code`, if any and
/// later than `last_step` (a code is accepted once: no replay in its window).
/// Every candidate is compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_step: i64, last_step: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    for step in now_step - WINDOW..=now_step + WINDOW {
        if ct_eq(&code_at(secret, step), code) && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps read secrets.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(B32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The URI authenticator apps enrol from (Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        form_urlencoded::byte_serialize(s.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// The URI as a QR code, an SVG image.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        // RFC 6238 appendix B (SHA-1, eight digits).
        for (t, want) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_digits(RFC_SECRET, step_of(t), 8), want, "T={t}");
            // Six digits are the last six of the same number.
            assert_eq!(code_at(RFC_SECRET, step_of(t)), want[2..], "T={t}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_only_once() {
        let now = step_of(1_700_000_000);
        let prev = code_at(RFC_SECRET, now - 1);
        let next = code_at(RFC_SECRET, now + 1);
        let old = code_at(RFC_SECRET, now - 2);
        assert_eq!(matching_step(RFC_SECRET, &prev, now, -1), Some(now - 1));
        assert_eq!(matching_step(RFC_SECRET, &next, now, -1), Some(now + 1));
        assert_eq!(matching_step(RFC_SECRET, &old, now, -1), None);
        // Replay: once a step is used, it and earlier ones are refused.
        let cur = code_at(RFC_SECRET, now);
        assert_eq!(matching_step(RFC_SECRET, &cur, now, now), None);
        assert_eq!(matching_step(RFC_SECRET, &prev, now, now), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", now, -1), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now, -1), None);
    }

    #[test]
    fn secrets_are_base32_in_the_uri_and_the_qr_code_is_svg() {
        assert_eq!(
            base32(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(base32(b"f"), "MY");
        let uri = otpauth_uri("Shop", "a@example.com", RFC_SECRET);
        assert!(
            uri.starts_with("otpauth://totp/Shop:a%40example.com?secret=GEZDG"),
            "{uri}"
        );
        assert!(qr_svg(&uri).contains("<svg"));
        assert_eq!(new_secret().len(), 20);
    }
}
