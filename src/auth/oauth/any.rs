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

/// Methods of the `Provider` trait (`name(http, params)`) that call it on the
/// provider of whichever kind `self` holds.
macro_rules! forward_to_kind {
    ($($(#[$doc:meta])* $name:ident($params:ty) -> $out:ty;)*) => {$(
        $(#[$doc])*
        pub async fn $name(&self, http: &OAuthHttp, params: &$params) -> AppResult<$out> {
            each_kind!(self, p => p.$name(http, params).await)
        }
    )*};
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

    // Each call of the `Provider` trait, on the provider of whichever kind.
    forward_to_kind! {
        /// The URL to send the user's browser to.
        authorize_url(AuthorizeParams<'_>) -> String;
        /// Redeems the code (with the PKCE verifier) and reads the account.
        exchange(ExchangeParams<'_>) -> Profile;
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
