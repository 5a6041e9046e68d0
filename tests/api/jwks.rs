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
