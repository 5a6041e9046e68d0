//! A software WebAuthn authenticator for the passkey tests: a P-256 key
//! (ES256), attestation `none`, and assertions signed over the
//! authenticator data and the client data's hash, as a browser relays them
//! in the JSON of `PublicKeyCredential.toJSON()`.
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct SoftAuthenticator {
    key: EcdsaKeyPair,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    /// The origin the "browser" puts in the client data.
    pub origin: String,
    /// The relying-party id whose hash the authenticator signs; `None` = the options'.
    pub rp_id: Option<String>,
    /// Whether the authenticator verifies its user (the UV flag).
    pub verifies_user: bool,
    /// The user handle kept with a discoverable credential.
    user_handle: Option<String>,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// CBOR's head of a data item of major type `major` and length/value `n`.
fn head(out: &mut Vec<u8>, major: u8, n: usize) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=255 => out.extend([m | 24, n as u8]),
        _ => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    head(out, 3, s.len());
    out.extend(s.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len());
    out.extend(b);
}

/// A small CBOR integer (COSE keys use -3..=3).
fn cbor_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        head(out, 0, i as usize)
    } else {
        head(out, 1, (-1 - i) as usize)
    }
}

impl SoftAuthenticator {
    pub fn new(origin: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).unwrap();
        Self {
            key,
            credential_id,
            counter: 0,
            origin: origin.to_owned(),
            rp_id: None,
            verifies_user: true,
            user_handle: None,
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["challenge"].as_str().expect("a challenge");
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn auth_data(&mut self, rp_id: &str, attested: Option<&[u8]>) -> Vec<u8> {
        let rp_id = self.rp_id.clone().unwrap_or_else(|| rp_id.to_owned());
        let mut out = Sha256::digest(rp_id.as_bytes()).to_vec();
        let uv = if self.verifies_user { 0x04 } else { 0 };
        let at = if attested.is_some() { 0x40 } else { 0 };
        out.push(0x01 | uv | at);
        self.counter += 1;
        out.extend(self.counter.to_be_bytes());
        if let Some(a) = attested {
            out.extend(a);
        }
        out
    }

    /// The COSE key of the public key: EC2, ES256, P-256, x, y.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let mut out = vec![];
        head(&mut out, 5, 5);
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut out, k);
            cbor_int(&mut out, v);
        }
        cbor_int(&mut out, -2);
        cbor_bytes(&mut out, x);
        cbor_int(&mut out, -3);
        cbor_bytes(&mut out, y);
        out
    }

    /// Answers `passkeyRegistrationOptions`: the new credential's `toJSON()`.
    pub fn register(&mut self, options: &Value) -> Value {
        self.user_handle = options["user"]["id"].as_str().map(str::to_owned);
        let client_data = self.client_data("webauthn.create", options);
        let mut attested = vec![0u8; 16];
        attested.extend((self.credential_id.len() as u16).to_be_bytes());
        attested.extend(&self.credential_id);
        attested.extend(self.cose_key());
        let rp_id = options["rp"]["id"].as_str().expect("an rp id").to_owned();
        let auth_data = self.auth_data(&rp_id, Some(&attested));
        let mut attestation = vec![];
        head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        self.credential(json!({
            "clientDataJSON": b64(&client_data),
            "attestationObject": b64(&attestation),
            "transports": ["internal"],
        }))
    }

    /// Answers `passkeyLoginOptions`: the assertion's `toJSON()`.
    pub fn assert(&mut self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.get", options);
        let rp_id = options["rpId"].as_str().expect("an rp id").to_owned();
        let auth_data = self.auth_data(&rp_id, None);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        self.credential(json!({
            "clientDataJSON": b64(&client_data),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_ref()),
            "userHandle": self.user_handle,
        }))
    }

    /// A `PublicKeyCredential.toJSON()` of this credential with `response`.
    fn credential(&self, response: Value) -> Value {
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
    }
}
