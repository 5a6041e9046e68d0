//! Sign in with Apple: OpenID Connect (Apple's discovery document, key set
//! and ID tokens, through `oidc.rs`), with two differences:
//! - the client secret is an ES256 JWT the server makes from the configured
//!   key (`iss` the team, `sub` the Services ID, `aud` Apple), short-lived and
//!   reused until shortly before it expires;
//! - the authorization asks for `response_mode=form_post`: Apple's callback
//!   is a POST form with `code`, `state` and, on the first sign-in only, a
//!   `user` JSON with the name (Apple's ID token never carries the name).
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde::{Deserialize, Serialize};

use super::http::OAuthHttp;
use super::oidc::Oidc;
use super::pkce;
use super::provider::Provider;
use super::types::{AuthorizeParams, ExchangeParams, Profile, unavailable};
use crate::error::AppResult;
use crate::secret::Secret;

/// The audience of every client secret, whatever the issuer is set to.
pub const CLIENT_SECRET_AUDIENCE: &str = "https://appleid.apple.com";
/// How long a client secret is valid (Apple allows up to six months).
const SECRET_LIFETIME_SECS: i64 = 1800;
/// A cached secret is replaced this long before it expires.
const RENEW_BEFORE_SECS: i64 = 300;

/// Apple (or a test double of it, by its issuer).
pub struct Apple {
    pub oidc: Oidc,
}

#[derive(Serialize)]
struct SecretClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// Client secrets made, by team, key, client and key fingerprint: (expiry, JWT).
fn made() -> &'static Mutex<HashMap<String, (i64, Secret)>> {
    static MADE: OnceLock<Mutex<HashMap<String, (i64, Secret)>>> = OnceLock::new();
    MADE.get_or_init(Mutex::default)
}

impl Apple {
    /// The client secret at `now`: made from the configured key (or reused
    /// while it has more than a few minutes left), else the secret configured.
    pub fn client_secret(&self, now: i64) -> AppResult<Secret> {
        let config = &self.oidc.config;
        let Some(key) = &config.apple else {
            return Ok(config.client_secret.clone());
        };
        // The fingerprint makes a replaced key give a new secret at once.
        let cache_key = format!(
            "{}\n{}\n{}\n{}",
            key.team_id,
            key.key_id,
            config.client_id,
            pkce::hash(key.private_key.expose())
        );
        let mut cache = made().lock().expect("client secret cache");
        if let Some((_, s)) = cache
            .get(&cache_key)
            .filter(|(exp, _)| exp - RENEW_BEFORE_SECS > now)
        {
            return Ok(s.clone());
        }
        // The messages name the key id only, never the key.
        let signing =
            EncodingKey::from_ec_pem(key.private_key.expose().as_bytes()).map_err(|_| {
                unavailable(format!(
                    "the Apple private key {} is not an EC private key in PEM (the .p8 file)",
                    key.key_id
                ))
            })?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.key_id.clone());
        let exp = now + SECRET_LIFETIME_SECS;
        let claims = SecretClaims {
            iss: &key.team_id,
            sub: &config.client_id,
            aud: CLIENT_SECRET_AUDIENCE,
            iat: now,
            exp,
        };
        let jwt = encode(&header, &claims, &signing).map_err(|_| {
            unavailable(format!(
                "the Apple private key {} cannot sign (ES256 needs a P-256 key)",
                key.key_id
            ))
        })?;
        let secret = Secret::from(jwt);
        cache.retain(|_, (e, _)| *e > now);
        cache.insert(cache_key, (exp, secret.clone()));
        Ok(secret)
    }
}

impl Provider for Apple {
    async fn authorize_url(&self, http: &OAuthHttp, p: &AuthorizeParams<'_>) -> AppResult<String> {
        self.oidc
            .authorize_url_with(http, p, "name email", &[("response_mode", "form_post")])
            .await
    }

    async fn exchange(&self, http: &OAuthHttp, p: &ExchangeParams<'_>) -> AppResult<Profile> {
        let secret = self.client_secret(chrono::Utc::now().timestamp())?;
        self.oidc.exchange_with(http, p, secret.expose()).await
    }
}

#[derive(Deserialize)]
struct FormUser {
    name: Option<FormName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FormName {
    first_name: Option<String>,
    last_name: Option<String>,
}

/// The name in the `user` field of Apple's `form_post` callback
/// (`{"name": {"firstName", "lastName"}, "email"}`); `None` when it has none
/// or is not that JSON. Its email is not used: the ID token's is the one
/// Apple vouches for.
pub fn form_user_name(user: &str) -> Option<String> {
    let name = serde_json::from_str::<FormUser>(user).ok()?.name?;
    let full = [name.first_name, name.last_name]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!full.is_empty()).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::oauth::types::{AppleKey, Kind, ProviderConfig};

    // A P-256 test key (not Apple's), as the .p8 file comes.
    const KEY: &str = include_str!("../../../tests/api/fixtures/apple_key.p8");
    const PUBLIC: &str = include_str!("../../../tests/api/fixtures/apple_key.pub.pem");

    fn apple(key_id: &str) -> Apple {
        Apple {
            oidc: Oidc {
                config: ProviderConfig {
                    kind: Kind::Apple,
                    client_id: "com.example.web".into(),
                    client_secret: Secret::default(),
                    issuer: "https://appleid.apple.com".into(),
                    authorize_url: String::new(),
                    token_url: String::new(),
                    api_url: String::new(),
                    scopes: vec![],
                    apple: Some(AppleKey {
                        team_id: "TEAM123456".into(),
                        key_id: key_id.into(),
                        private_key: Secret::from(KEY.to_owned()),
                    }),
                },
            },
        }
    }

    #[test]
    fn the_client_secret_is_an_es256_jwt_for_apple_reused_until_near_expiry() {
        let a = apple("KEYID00001");
        let now = chrono::Utc::now().timestamp();
        let s = a.client_secret(now).unwrap();
        let header = jsonwebtoken::decode_header(s.expose()).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEYID00001"));
        let mut v = jsonwebtoken::Validation::new(Algorithm::ES256);
        v.set_audience(&[CLIENT_SECRET_AUDIENCE]);
        v.set_issuer(&["TEAM123456"]);
        let key = jsonwebtoken::DecodingKey::from_ec_pem(PUBLIC.as_bytes()).unwrap();
        let claims = jsonwebtoken::decode::<serde_json::Value>(s.expose(), &key, &v)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["exp"], now + SECRET_LIFETIME_SECS);
        // Reused while it has time left, made again near its expiry.
        assert_eq!(a.client_secret(now + 60).unwrap().expose(), s.expose());
        let later = now + SECRET_LIFETIME_SECS - RENEW_BEFORE_SECS + 1;
        assert_ne!(a.client_secret(later).unwrap().expose(), s.expose());
    }

    #[test]
    fn a_key_that_is_not_an_ec_key_is_a_clear_error_without_the_key() {
        let mut a = apple("KEYID00002");
        a.oidc.config.apple.as_mut().unwrap().private_key = Secret::from(
            "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----".to_owned(),
        );
        let e = a.client_secret(0).unwrap_err().to_string();
        assert!(e.contains("KEYID00002") && !e.contains("not a key"), "{e}");
    }

    #[test]
    fn the_form_users_name_is_read_and_anything_else_is_ignored() {
        let u =
            r#"{"name":{"firstName":"Ann","lastName":"Lee"},"email":"x@privaterelay.appleid.com"}"#;
        assert_eq!(form_user_name(u).as_deref(), Some("Ann Lee"));
        assert_eq!(
            form_user_name(r#"{"name":{"firstName":"Ann"}}"#).as_deref(),
            Some("Ann")
        );
        assert_eq!(form_user_name(r#"{"email":"x@y.z"}"#), None);
        assert_eq!(form_user_name("not json"), None);
    }
}
