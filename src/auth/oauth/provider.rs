//! The provider trait, which each provider's file implements.
use super::http::OAuthHttp;
use super::types::{AuthorizeParams, ExchangeParams, Profile};
use crate::error::AppResult;

/// What every provider does: send the user to consent, then turn the
/// callback's code into the account's profile.
pub trait Provider {
    /// The URL to send the user's browser to.
    fn authorize_url(
        &self,
        http: &OAuthHttp,
        params: &AuthorizeParams<'_>,
    ) -> impl Future<Output = AppResult<String>> + Send;

    /// Redeems the code (with the PKCE verifier) and reads the account.
    fn exchange(
        &self,
        http: &OAuthHttp,
        params: &ExchangeParams<'_>,
    ) -> impl Future<Output = AppResult<Profile>> + Send;
}

/// An authorization URL: `base` with the query parameters added, and
/// `redirect_uri` last (left empty for the client to append when `None`).
pub fn with_query(
    base: &str,
    pairs: &[(&str, &str)],
    redirect_url: Option<&str>,
) -> AppResult<String> {
    let mut url = reqwest::Url::parse(base)
        .map_err(|_| super::types::unavailable("the provider's authorization URL is not valid"))?;
    url.query_pairs_mut().extend_pairs(pairs);
    let mut text: String = url.into();
    if let Some(r) = redirect_url {
        let encoded: String = form_urlencoded::byte_serialize(r.as_bytes()).collect();
        text.push_str("&redirect_uri=");
        text.push_str(&encoded);
    } else {
        text.push_str("&redirect_uri=");
    }
    Ok(text)
}
