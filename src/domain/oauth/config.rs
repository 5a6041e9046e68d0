//! `[[collections.oauth2]]`: the sign-in providers of a collection.
//!
//! ```toml
//! [[collections.oauth2]]
//! name = "google"                     # the name clients use
//! provider = "google"                 # google | apple | github | oidc
//! client_id = "…apps.googleusercontent.com"
//! client_secret_env = "GOOGLE_CLIENT_SECRET"   # or client_secret = "…"
//! redirect_urls = ["https://app.example.com/oauth/callback"]
//! # issuer = "https://accounts.google.com"     # required for oidc
//! ```
//!
//! Apple makes its client secret from a key instead: `team_id`, `key_id` and
//! `private_key_file` or `private_key_env` (the `.p8` PEM) replace
//! `client_secret`.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::oauth::types::{AppleKey, Kind, ProviderConfig};
use crate::error::{AppError, AppResult};
use crate::secret::Secret;

/// The protocol and defaults of a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Google,
    Apple,
    Github,
    Oidc,
}

/// One provider of a collection. Absent options are left out when it is
/// written back.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Decl {
    pub name: String,
    pub provider: ProviderKind,
    /// Shown to users (PocketBase's `displayName`); defaults from the provider.
    pub display_name: Option<String>,
    pub client_id: String,
    /// The secret itself; kept in the database, never printed nor returned.
    pub client_secret: Option<StoredSecret>,
    /// The environment variable holding the secret, read at each use.
    pub client_secret_env: Option<String>,
    /// The OpenID issuer (required for `oidc`; Google's and Apple's by default).
    pub issuer: Option<String>,
    /// The redirect URLs a flow may name, matched exactly.
    #[serde(default)]
    pub redirect_urls: Vec<String>,
    /// GitHub's endpoints (for GitHub Enterprise, or a test double).
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub api_url: Option<String>,
    /// Scopes asked for (defaults: `openid email profile`; GitHub
    /// `read:user user:email`; Apple `name email`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Apple: the team (the client secret's `iss`) and the key's id.
    pub team_id: Option<String>,
    pub key_id: Option<String>,
    /// Apple: the file, or the environment variable, holding the private key
    /// (PEM); read at each use, never stored.
    pub private_key_file: Option<String>,
    pub private_key_env: Option<String>,
}

/// A URL of a provider's declaration: http(s), or an app's own scheme
/// (`com.example.app:/callback`).
pub fn check_url(field: &str, url: &str) -> AppResult<()> {
    let ok = reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "https" | "http") || u.scheme().contains('.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::validation(field, format!("`{url}` is not a URL")))
    }
}

/// A client secret as the collection's settings store it: unlike
/// [`Secret`], it serializes (into the settings row only; no door returns
/// settings), and it never prints.
#[derive(Clone, Debug, Default)]
pub struct StoredSecret(pub Secret);

impl PartialEq for StoredSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0.expose()
    }
}

impl Serialize for StoredSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose())
    }
}

impl<'de> Deserialize<'de> for StoredSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Secret::deserialize(d).map(StoredSecret)
    }
}

impl OAuth2Decl {
    /// The name shown to users.
    pub fn display_name(&self) -> String {
        self.display_name.clone().unwrap_or_else(|| {
            match self.provider {
                ProviderKind::Google => "Google",
                ProviderKind::Apple => "Apple",
                ProviderKind::Github => "GitHub",
                ProviderKind::Oidc => &self.name,
            }
            .to_owned()
        })
    }

    /// Checks a declaration when a project file is read.
    pub fn check(&self) -> AppResult<()> {
        let field = format!("oauth2.{}", self.name);
        let named = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !named {
            return Err(AppError::validation(
                "oauth2",
                "a provider's `name` is 1 to 64 letters, digits, `_` or `-`",
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(AppError::validation(field, "`client_id` is required"));
        }
        self.check_apple(&field)?;
        match (&self.client_secret, &self.client_secret_env) {
            (Some(_), Some(_)) => {
                return Err(AppError::validation(
                    field,
                    "give `client_secret` or `client_secret_env`, not both",
                ));
            }
            (None, None) if !self.apple_key() => {
                return Err(AppError::validation(
                    field,
                    "`client_secret` or `client_secret_env` is required",
                ));
            }
            _ => {}
        }
        if self.provider == ProviderKind::Oidc && self.issuer.is_none() {
            return Err(AppError::validation(
                field,
                "an `oidc` provider names its `issuer`",
            ));
        }
        if self.redirect_urls.is_empty() {
            return Err(AppError::validation(
                field,
                "`redirect_urls` lists the URLs a sign-in may return to",
            ));
        }
        for url in self
            .redirect_urls
            .iter()
            .chain(&self.issuer)
            .chain(&self.authorize_url)
            .chain(&self.token_url)
            .chain(&self.api_url)
        {
            check_url(&field, url)?;
        }
        Ok(())
    }

    /// Whether Apple's client secret is made from a key here.
    fn apple_key(&self) -> bool {
        self.provider == ProviderKind::Apple && self.team_id.is_some()
    }

    /// Apple's key fields: all of them (with one place for the key) and no
    /// `client_secret`, or none; other providers take none.
    fn check_apple(&self, field: &str) -> AppResult<()> {
        let given = [
            self.team_id.is_some(),
            self.key_id.is_some(),
            self.private_key_file.is_some() || self.private_key_env.is_some(),
        ];
        if given == [false; 3] {
            return Ok(());
        }
        let wrong = if self.provider != ProviderKind::Apple {
            Some("`team_id`, `key_id` and `private_key_*` are for `provider = \"apple\"`")
        } else if given != [true; 3] {
            Some(
                "Apple's client secret needs `team_id`, `key_id` and `private_key_file` or `private_key_env`",
            )
        } else if self.private_key_file.is_some() && self.private_key_env.is_some() {
            Some("give `private_key_file` or `private_key_env`, not both")
        } else if self.client_secret.is_some() || self.client_secret_env.is_some() {
            Some("give Apple's key or a `client_secret`, not both")
        } else {
            None
        };
        wrong.map_or(Ok(()), |m| Err(AppError::validation(field, m)))
    }

    /// Apple's key, read from its file or variable at each use.
    fn resolve_apple(&self) -> AppResult<Option<AppleKey>> {
        if !self.apple_key() {
            return Ok(None);
        }
        // The errors name where the key was looked for, never its content.
        let pem = match (&self.private_key_file, &self.private_key_env) {
            (Some(path), _) => std::fs::read_to_string(path).map_err(|e| {
                AppError::ProviderUnavailable(format!(
                    "the Apple private key of `{}` cannot be read from {path}: {e}",
                    self.name
                ))
            })?,
            (None, Some(var)) => std::env::var(var).map_err(|_| {
                AppError::ProviderUnavailable(format!(
                    "the Apple private key of `{}` is not set ({var})",
                    self.name
                ))
            })?,
            (None, None) => {
                return Err(AppError::ProviderUnavailable(format!(
                    "the Apple private key of `{}` is not configured",
                    self.name
                )));
            }
        };
        Ok(Some(AppleKey {
            team_id: self.team_id.clone().unwrap_or_default(),
            key_id: self.key_id.clone().unwrap_or_default(),
            private_key: Secret::from(pem),
        }))
    }

    /// The provider with its endpoints and secret resolved.
    pub fn resolve(&self) -> AppResult<ProviderConfig> {
        let secret = match (&self.client_secret, &self.client_secret_env) {
            (Some(s), _) => s.0.clone(),
            (None, Some(var)) => Secret::from(std::env::var(var).map_err(|_| {
                AppError::ProviderUnavailable(format!(
                    "the client secret of `{}` is not set ({var})",
                    self.name
                ))
            })?),
            (None, None) => Secret::default(),
        };
        let (kind, issuer) = match self.provider {
            ProviderKind::Google => (Kind::Oidc, "https://accounts.google.com"),
            ProviderKind::Apple => (Kind::Apple, "https://appleid.apple.com"),
            ProviderKind::Oidc => (Kind::Oidc, ""),
            ProviderKind::Github => (Kind::GitHub, ""),
        };
        let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
        Ok(ProviderConfig {
            kind,
            client_id: self.client_id.clone(),
            client_secret: secret,
            issuer: or(&self.issuer, issuer),
            authorize_url: or(
                &self.authorize_url,
                "https://github.com/login/oauth/authorize",
            ),
            token_url: or(
                &self.token_url,
                "https://github.com/login/oauth/access_token",
            ),
            api_url: or(&self.api_url, "https://api.github.com"),
            scopes: self.scopes.clone(),
            apple: self.resolve_apple()?,
        })
    }
}
