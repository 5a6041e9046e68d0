//! The configured provider, dispatching to its kind's file.
use super::apple::Apple;
use super::github::GitHub;
use super::http::OAuthHttp;
use super::oidc::Oidc;
use super::provider::Provider;
use super::types::{AuthorizeParams, ExchangeParams, Kind, Profile, ProviderConfig};
use crate::error::AppResult;

/// A configured provider of any kind.
pub enum AnyProvider {
    Oidc(Oidc),
    GitHub(GitHub),
    Apple(Apple),
}

/// The same call on the provider of whichever kind `$any` holds.
macro_rules! each_kind {
    ($any:expr, $p:ident => $call:expr) => {
        match $any {
            AnyProvider::Oidc($p) => $call,
            AnyProvider::GitHub($p) => $call,
            AnyProvider::Apple($p) => $call,
        }
    };
}

impl AnyProvider {
    pub fn new(config: ProviderConfig) -> Self {
        match config.kind {
            Kind::Oidc => AnyProvider::Oidc(Oidc { config }),
            Kind::GitHub => AnyProvider::GitHub(GitHub { config }),
            Kind::Apple => AnyProvider::Apple(Apple {
                oidc: Oidc { config },
            }),
        }
    }

    /// Whether the provider checks a nonce (OIDC ID tokens).
    pub fn uses_nonce(&self) -> bool {
        matches!(self, AnyProvider::Oidc(_) | AnyProvider::Apple(_))
    }

    pub async fn authorize_url(
        &self,
        http: &OAuthHttp,
        params: &AuthorizeParams<'_>,
    ) -> AppResult<String> {
        each_kind!(self, p => p.authorize_url(http, params).await)
    }

    pub async fn exchange(
        &self,
        http: &OAuthHttp,
        params: &ExchangeParams<'_>,
    ) -> AppResult<Profile> {
        each_kind!(self, p => p.exchange(http, params).await)
    }

    /// Checks an ID token the client obtained itself (OpenID providers only).
    pub async fn verify_id_token(&self, http: &OAuthHttp, token: &str) -> AppResult<Profile> {
        match self {
            AnyProvider::Oidc(p) => p.verify_id_token(http, token).await,
            AnyProvider::Apple(p) => p.oidc.verify_id_token(http, token).await,
            AnyProvider::GitHub(_) => Err(super::types::rejected("GitHub issues no ID tokens")),
        }
    }
}
