//! GitHub's OAuth2 apps: the authorization code flow with PKCE, then the
//! REST API's `/user` and `/user/emails` (the primary, verified address).
use serde::Deserialize;

use super::http::OAuthHttp;
use super::provider::{Provider, with_query};
use super::types::{AuthorizeParams, ExchangeParams, Profile, ProviderConfig, rejected};
use crate::error::AppResult;

/// GitHub (or a GitHub Enterprise server, by its URLs).
pub struct GitHub {
    pub config: ProviderConfig,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    primary: bool,
    verified: bool,
}

impl Provider for GitHub {
    async fn authorize_url(&self, _: &OAuthHttp, p: &AuthorizeParams<'_>) -> AppResult<String> {
        let scope = if self.config.scopes.is_empty() {
            "read:user user:email".to_owned()
        } else {
            self.config.scopes.join(" ")
        };
        with_query(
            &self.config.authorize_url,
            &[
                ("client_id", self.config.client_id.as_str()),
                ("scope", &scope),
                ("state", p.state),
                ("code_challenge", p.code_challenge),
                ("code_challenge_method", "S256"),
            ],
            p.redirect_url,
        )
    }

    async fn exchange(&self, http: &OAuthHttp, p: &ExchangeParams<'_>) -> AppResult<Profile> {
        let mut form = vec![
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("code", p.code),
            ("redirect_uri", p.redirect_url),
        ];
        if let Some(v) = p.code_verifier {
            form.push(("code_verifier", v));
        }
        let answer: TokenAnswer = http.post_form(&self.config.token_url, &form).await?;
        // GitHub answers 200 with `{error}` for a bad code.
        let token = match (answer.access_token, answer.error) {
            (Some(t), None) => t,
            (_, e) => {
                return Err(rejected(format!(
                    "the provider refused: {}",
                    e.unwrap_or_else(|| "no access token".into())
                )));
            }
        };
        let api = self.config.api_url.trim_end_matches('/');
        let user: serde_json::Value = http.get_json(&format!("{api}/user"), Some(&token)).await?;
        let emails: Vec<Email> = http
            .get_json(&format!("{api}/user/emails"), Some(&token))
            .await?;
        let subject = match &user["id"] {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(rejected("the provider's user has no id")),
        };
        let primary = emails.iter().find(|e| e.primary && e.verified);
        let str_of = |k: &str| {
            user[k]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(Profile {
            subject,
            email: primary.map(|e| e.email.clone()),
            email_verified: primary.is_some(),
            name: str_of("name").or_else(|| str_of("login")),
            avatar_url: str_of("avatar_url"),
            raw: user,
        })
    }
}
