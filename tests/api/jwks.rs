//! Tokens other services can verify: Ed25519 access tokens, the published key
//! set and discovery document, rotation, and HS256 tokens from before the switch.
use authgraph::domain::signing_keys;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use crate::helpers::{TestApp, error_code};

/// Verifies `token` with nothing but the key set the server publishes.
fn verify_with(jwks: &Value, token: &str) -> Result<Value, String> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
    let kid = decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["authgraph"]);
    decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn access_tokens_are_ed25519_and_verify_with_only_the_published_key_set() {
    let app = TestApp::spawn().await;
    let (token, user_id) = app.user("jwks@example.com").await;
    let discovery = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], "authgraph");
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("{}/.well-known/jwks.json", app.base));
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(
        (keys[0]["kty"].as_str(), keys[0]["crv"].as_str()),
        (Some("OKP"), Some("Ed25519"))
    );
    // Only public material is published.
    assert!(keys[0].get("d").is_none(), "{jwks}");
    assert_eq!(decode_header(&token).unwrap().alg, Algorithm::EdDSA);
    let claims = verify_with(&jwks, &token).unwrap();
    assert_eq!(claims["sub"], user_id.as_str());
    // A token whose payload was altered does not verify.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(verify_with(&jwks, &parts.join(".")).is_err());
}

#[tokio::test]
async fn a_rotated_key_keeps_verifying_the_tokens_it_signed_and_stays_published() {
    let app = TestApp::spawn().await;
    let (before, _) = app.user("rotate@example.com").await;
    let old_kid = decode_header(&before).unwrap().kid.unwrap();
    let new_kid = signing_keys::rotate(&app.services).await.unwrap();
    assert_ne!(old_kid, new_kid);
    let after = app
        .log_in("rotate@example.com", "correct horse battery")
        .await;
    let after = after["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        decode_header(&after).unwrap().kid.as_deref(),
        Some(new_kid.as_str())
    );
    // Both tokens still work against the server and verify with the key set.
    for token in [&before, &after] {
        assert!(app.me(token).await["data"]["me"]["id"].is_string());
    }
    let jwks = app.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    verify_with(&jwks, &before).unwrap();
    verify_with(&jwks, &after).unwrap();
    // Another server on the same database signs with the new key after a reload.
    signing_keys::reload(&app.services).await.unwrap();
    assert!(app.me(&before).await["data"]["me"]["id"].is_string());
}

#[tokio::test]
async fn hs256_tokens_issued_before_the_switch_are_accepted_until_they_expire() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("legacy@example.com").await;
    let mut claims = app.services.tokens.verify(&token).unwrap();
    let legacy = app.services.tokens.sign_legacy(&claims).unwrap();
    assert_eq!(decode_header(&legacy).unwrap().alg, Algorithm::HS256);
    assert!(app.me(&legacy).await["data"]["me"]["id"].is_string());
    claims.iat -= 7200;
    claims.exp = chrono::Utc::now().timestamp() - 60;
    let expired = app.services.tokens.sign_legacy(&claims).unwrap();
    assert_eq!(error_code(&app.me(&expired).await), Some("INVALID_TOKEN"));
}

/// A PEM file of fresh Ed25519 keys in `dir`, as `openssl genpkey` writes
/// them; returns its path and the RFC 7638 thumbprint of the first key.
fn key_file(dir: &std::path::Path, count: usize) -> (String, String) {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use sha2::Digest;
    let pairs: Vec<Ed25519KeyPair> = (0..count)
        .map(|_| Ed25519KeyPair::generate().unwrap())
        .collect();
    let pem: String = pairs
        .iter()
        .map(|p| {
            let der = STANDARD.encode(p.to_pkcs8v1().unwrap().as_ref());
            format!("-----BEGIN PRIVATE KEY-----\n{der}\n-----END PRIVATE KEY-----\n")
        })
        .collect();
    let path = dir.join("signing.pem");
    std::fs::write(&path, pem).unwrap();
    let x = URL_SAFE_NO_PAD.encode(pairs[0].public_key().as_ref());
    let members = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(members.as_bytes()));
    (path.display().to_string(), kid)
}

#[tokio::test]
async fn a_configured_key_signs_tokens_that_verify_with_the_published_key_set() {
    let dir = tempfile::tempdir().unwrap();
    let (path, kid) = key_file(dir.path(), 2);
    let app = TestApp::spawn_custom(None, move |c| c.signing_key_file = path).await;
    let (token, user_id) = app.user("configured@example.com").await;
    assert_eq!(
        decode_header(&token).unwrap().kid.as_deref(),
        Some(kid.as_str())
    );
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let claims = verify_with(&jwks, &token).unwrap();
    assert_eq!(claims["sub"], user_id.as_str());
    // Both keys of the file are published; no key was generated.
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    // `keys rotate` generates nothing then: the configured key goes on signing.
    assert_eq!(signing_keys::rotate(&app.services).await.unwrap(), kid);
    let after = app
        .log_in("configured@example.com", "correct horse battery")
        .await;
    let token = after["data"]["logIn"]["token"].as_str().unwrap();
    assert_eq!(
        decode_header(token).unwrap().kid.as_deref(),
        Some(kid.as_str())
    );
}

#[tokio::test]
async fn tokens_of_the_generated_key_still_verify_after_a_key_is_configured() {
    let app = TestApp::spawn().await;
    let (before, _) = app.user("switch@example.com").await;
    let dir = tempfile::tempdir().unwrap();
    let (path, kid) = key_file(dir.path(), 1);
    let url = app.database_url.clone();
    let configured = TestApp::spawn_custom(None, move |c| {
        c.database_url = url;
        c.signing_key_file = path;
    })
    .await;
    let jwks = configured.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
    assert!(verify_with(&jwks, &before).is_ok(), "{jwks}");
    assert_eq!(
        configured.me(&before).await["data"]["me"]["email"],
        "switch@example.com"
    );
    // Retired by `keys rotate`, the generated key is still served until its tokens expire.
    signing_keys::rotate(&configured.services).await.unwrap();
    let jwks = configured.get_json("/.well-known/jwks.json").await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
}

#[tokio::test]
async fn a_bad_signing_key_file_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let cases = [
        (
            not_a_key.display().to_string(),
            "not a PKCS#8 Ed25519 private key",
        ),
        (
            dir.path().join("missing.pem").display().to_string(),
            "No such file",
        ),
    ];
    for (path, reason) in cases {
        let mut config = crate::helpers::test_config(dir.path()).await;
        config.signing_key_file = path;
        let db = authgraph::db::connect(&config).await.unwrap();
        authgraph::db::migrate(&db).await.unwrap();
        let err = match authgraph::app::services_with_db(&config, db).await {
            Ok(_) => panic!("started with a bad AUTHGRAPH_SIGNING_KEY_FILE"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("AUTHGRAPH_SIGNING_KEY_FILE"), "{err}");
        assert!(err.contains(reason), "{err}");
    }
}
