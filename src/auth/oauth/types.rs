//! What the providers take and give.
use crate::secret::Secret;

/// The kind of provider, which decides the protocol spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// OpenID Connect by discovery (Google, Apple, any issuer).
    Oidc,
    /// GitHub's OAuth2 apps and its REST API.
    GitHub,
    /// Sign in with Apple: OpenID Connect with a signed client secret and a
    /// `form_post` callback.
    Apple,
}

/// The key Apple's client secret is made from (Certificates, Identifiers &
/// Profiles → Keys, with Sign in with Apple).
#[derive(Clone, Debug)]
pub struct AppleKey {
    pub team_id: String,
    pub key_id: String,
    /// The private key, PKCS#8 PEM (the `.p8` file Apple hands out once).
    pub private_key: Secret,
}

/// One provider as configured for a collection, endpoints resolved.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    pub kind: Kind,
    pub client_id: String,
    pub client_secret: Secret,
    /// OIDC: the issuer (`iss`), whose discovery document names the endpoints.
    pub issuer: String,
    /// GitHub: the authorization, token and API base URLs.
    pub authorize_url: String,
    pub token_url: String,
    pub api_url: String,
    pub scopes: Vec<String>,
    /// Apple: the key the client secret is made from; `None` when the
    /// configuration gives a client secret made elsewhere.
    pub apple: Option<AppleKey>,
}

/// The values that bind an authorization request to its callback.
#[derive(Clone, Debug)]
pub struct AuthorizeParams<'a> {
    /// `None`: the URL ends in `redirect_uri=` for the client to complete
    /// (PocketBase's `authURL`).
    pub redirect_url: Option<&'a str>,
    pub state: &'a str,
    /// PKCE S256 challenge of the flow's verifier.
    pub code_challenge: &'a str,
    /// OIDC: the nonce the ID token must carry.
    pub nonce: Option<&'a str>,
}

/// The callback's values and what the flow kept of its start.
#[derive(Clone, Debug)]
pub struct ExchangeParams<'a> {
    pub code: &'a str,
    /// The PKCE verifier; `None` only for a flow the client started without
    /// PKCE (Cocobase's GitHub sign-in).
    pub code_verifier: Option<&'a str>,
    pub redirect_url: &'a str,
    /// The nonce the ID token must carry (OIDC); `None` when the flow kept none.
    pub nonce: Option<&'a str>,
}

/// The account at the provider, as it describes it.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// The provider's stable id of the account.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider says it verified `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    pub avatar_url: Option<String>,
    /// What the provider returned (claims, or the API's user), for clients.
    pub raw: serde_json::Value,
}

/// Why a provider call failed.
pub fn unavailable(what: impl std::fmt::Display) -> crate::error::AppError {
    crate::error::AppError::ProviderUnavailable(what.to_string())
}

/// A response that does not prove the sign-in.
pub fn rejected(what: impl std::fmt::Display) -> crate::error::AppError {
    crate::error::AppError::OAuthRejected(what.to_string())
}
