//! GraphQL types of OAuth2 / OpenID Connect sign-in.
use async_graphql::SimpleObject;

use crate::domain::oauth::flow::{ProviderInfo, Started};
use crate::domain::oauth::identities::Identity;

/// A sign-in provider a collection offers.
#[derive(SimpleObject)]
#[graphql(name = "OAuthProvider")]
pub struct OAuthProviderObject {
    /// Pass it to `startOAuth`.
    pub name: String,
    /// The name to show users.
    pub display_name: String,
}

impl From<ProviderInfo> for OAuthProviderObject {
    fn from(p: ProviderInfo) -> Self {
        Self {
            name: p.name,
            display_name: p.display_name,
        }
    }
}

/// A started sign-in: send the browser to `url`; the provider redirects to
/// your redirect URL with `state` and `code`, which go to `finishOAuth`.
#[derive(SimpleObject)]
#[graphql(name = "OAuthStart")]
pub struct OAuthStart {
    /// The provider's authorization URL.
    pub url: String,
    /// Single use, valid ten minutes; compare it with the callback's.
    pub state: String,
}

impl From<Started> for OAuthStart {
    fn from(s: Started) -> Self {
        Self {
            url: s.url,
            state: s.state,
        }
    }
}

/// A provider's account linked to the user.
#[derive(SimpleObject)]
#[graphql(name = "OAuthIdentity")]
pub struct IdentityObject {
    /// The provider's name in the collection.
    pub provider: String,
    /// The email the provider gave at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider said it verified that email.
    pub email_verified: bool,
}

impl From<Identity> for IdentityObject {
    fn from(i: Identity) -> Self {
        Self {
            provider: i.provider,
            email: i.email,
            email_verified: i.email_verified,
        }
    }
}
