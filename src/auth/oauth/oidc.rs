//! Any OpenID Connect provider, by discovery
//! (`<issuer>/.well-known/openid-configuration`): the authorization code flow
//! with PKCE (S256) and a nonce, the ID token's signature checked against the
//! provider's key set (cached, fetched again for an unknown `kid`), and its
//! `iss`, `aud`, `exp` and `nonce` checked.
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::http::OAuthHttp;
use super::provider::{Provider, with_query};
use super::types::{
    AuthorizeParams, ExchangeParams, Profile, ProviderConfig, rejected, unavailable,
};
use crate::error::AppResult;

/// An OpenID provider.
pub struct Oidc {
    pub config: ProviderConfig,
}

/// The parts of the discovery document used.
#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// The claims read from an ID token.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    // Some providers (Apple) send the flag as a string.
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    picture: Option<String>,
}

fn trim(url: &str) -> &str {
    url.trim_end_matches('/')
}

impl Oidc {
    async fn discovery(&self, http: &OAuthHttp) -> AppResult<Discovery> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            trim(&self.config.issuer)
        );
        let doc = http.cached_json(&url, false).await?;
        let d: Discovery = serde_json::from_value(doc)
            .map_err(|_| unavailable("the provider's discovery document is incomplete"))?;
        // OpenID Connect Discovery §4.3: the document is the issuer's own.
        if trim(&d.issuer) != trim(&self.config.issuer) {
            return Err(unavailable(
                "the provider's discovery document names another issuer",
            ));
        }
        Ok(d)
    }

    /// The key the token names, fetching the key set again once for an unknown `kid`.
    async fn key(
        &self,
        http: &OAuthHttp,
        jwks_uri: &str,
        kid: Option<&str>,
    ) -> AppResult<DecodingKey> {
        for fresh in [false, true] {
            let set: JwkSet = serde_json::from_value(http.cached_json(jwks_uri, fresh).await?)
                .map_err(|_| unavailable("the provider's key set is not valid"))?;
            let found = match kid {
                Some(k) => set.find(k),
                None if set.keys.len() == 1 => set.keys.first(),
                None => None,
            };
            if let Some(jwk) = found {
                return DecodingKey::from_jwk(jwk)
                    .map_err(|_| unavailable("the provider's signing key is not usable"));
            }
        }
        Err(rejected(
            "the ID token is signed with a key the provider does not publish",
        ))
    }

    /// Checks an ID token and reads its claims.
    async fn verify(
        &self,
        http: &OAuthHttp,
        d: &Discovery,
        token: &str,
        nonce: Option<&str>,
    ) -> AppResult<(Claims, serde_json::Value)> {
        let header = decode_header(token).map_err(|_| rejected("the ID token is malformed"))?;
        if !matches!(
            header.alg,
            jsonwebtoken::Algorithm::RS256
                | jsonwebtoken::Algorithm::RS384
                | jsonwebtoken::Algorithm::RS512
                | jsonwebtoken::Algorithm::ES256
                | jsonwebtoken::Algorithm::ES384
                | jsonwebtoken::Algorithm::PS256
        ) {
            return Err(rejected("the ID token's algorithm is not accepted"));
        }
        let key = self.key(http, &d.jwks_uri, header.kid.as_deref()).await?;
        let mut v = Validation::new(header.alg);
        v.set_audience(&[&self.config.client_id]);
        v.set_issuer(&[d.issuer.as_str(), trim(&d.issuer)]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = 30;
        let data = decode::<serde_json::Value>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            rejected(match e.kind() {
                K::ExpiredSignature => "the ID token has expired",
                K::InvalidAudience => "the ID token is for another client",
                K::InvalidIssuer => "the ID token is from another issuer",
                K::InvalidSignature => "the ID token's signature is not valid",
                _ => "the ID token is not valid",
            })
        })?;
        let raw = data.claims;
        let claims: Claims = serde_json::from_value(raw.clone())
            .map_err(|_| rejected("the ID token lacks its subject"))?;
        if let Some(expected) = nonce {
            let ok = claims
                .nonce
                .as_deref()
                .is_some_and(|n| bool::from(n.as_bytes().ct_eq(expected.as_bytes())));
            if !ok {
                return Err(rejected("the ID token's nonce does not match this sign-in"));
            }
        }
        Ok((claims, raw))
    }
}

impl Provider for Oidc {
    async fn authorize_url(&self, http: &OAuthHttp, p: &AuthorizeParams<'_>) -> AppResult<String> {
        self.authorize_url_with(http, p, "openid email profile", &[])
            .await
    }

    async fn exchange(&self, http: &OAuthHttp, p: &ExchangeParams<'_>) -> AppResult<Profile> {
        self.exchange_with(http, p, self.config.client_secret.expose())
            .await
    }
}

impl Oidc {
    /// The authorization URL, with `default_scope` unless scopes are
    /// configured, and the provider's `extra` parameters.
    pub async fn authorize_url_with(
        &self,
        http: &OAuthHttp,
        p: &AuthorizeParams<'_>,
        default_scope: &str,
        extra: &[(&str, &str)],
    ) -> AppResult<String> {
        let d = self.discovery(http).await?;
        let scope = if self.config.scopes.is_empty() {
            default_scope.to_owned()
        } else {
            self.config.scopes.join(" ")
        };
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.config.client_id.as_str()),
            ("scope", &scope),
            ("state", p.state),
            ("code_challenge", p.code_challenge),
            ("code_challenge_method", "S256"),
        ];
        if let Some(n) = p.nonce {
            pairs.push(("nonce", n));
        }
        pairs.extend_from_slice(extra);
        with_query(&d.authorization_endpoint, &pairs, p.redirect_url)
    }

    /// Redeems the code with this client secret and checks the ID token.
    pub async fn exchange_with(
        &self,
        http: &OAuthHttp,
        p: &ExchangeParams<'_>,
        client_secret: &str,
    ) -> AppResult<Profile> {
        let d = self.discovery(http).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", p.code),
            ("redirect_uri", p.redirect_url),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", client_secret),
        ];
        if let Some(v) = p.code_verifier {
            form.push(("code_verifier", v));
        }
        let answer: TokenAnswer = http.post_form(&d.token_endpoint, &form).await?;
        let token = answer
            .id_token
            .ok_or_else(|| rejected("the provider returned no ID token"))?;
        self.profile(http, &d, &token, p.nonce).await
    }
}

impl Oidc {
    /// Checks an ID token the client obtained itself (Cocobase's Google
    /// sign-in): signature, `iss`, `aud` (this client) and `exp`; no nonce.
    pub async fn verify_id_token(&self, http: &OAuthHttp, token: &str) -> AppResult<Profile> {
        let d = self.discovery(http).await?;
        self.profile(http, &d, token, None).await
    }

    async fn profile(
        &self,
        http: &OAuthHttp,
        d: &Discovery,
        token: &str,
        nonce: Option<&str>,
    ) -> AppResult<Profile> {
        let (c, raw) = self.verify(http, d, token, nonce).await?;
        let verified = match &c.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(Profile {
            subject: c.sub,
            email: c.email,
            email_verified: verified,
            name: c.name,
            avatar_url: c.picture,
            raw,
        })
    }
}
