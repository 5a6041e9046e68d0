//! Users as the domain shows them, and the requests the doors send.
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use entity::user;

use crate::domain::client::ClientInfo;
use crate::domain::files::staging::NewFile;
use crate::domain::filter::{Filter, Sort};
use crate::error::{AppError, AppResult};

/// A user as the domain shows it; the password hash never leaves the domain.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub project_id: String,
    pub collection_id: String,
    pub email: String,
    pub data: Value,
    pub roles: Vec<String>,
    pub verified: bool,
    pub disabled: bool,
    pub token_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        let roles = serde_json::from_value(m.roles).unwrap_or_default();
        Self {
            id: m.id,
            project_id: m.project_id,
            collection_id: m.collection_id,
            email: m.email,
            data: m.data,
            roles,
            verified: m.verified,
            disabled: m.disabled,
            token_version: m.token_version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl User {
    /// What is left of a deleted user in an event from another instance.
    pub fn deleted(id: String, project_id: String, collection_id: String, email: String) -> User {
        let now = Utc::now();
        User {
            id,
            project_id,
            collection_id,
            email,
            data: Value::Object(Map::new()),
            roles: vec![],
            verified: false,
            disabled: false,
            token_version: -1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// A token and the user it was issued to.
#[derive(Clone, Debug)]
pub struct AuthResult {
    /// The access token.
    pub token: String,
    /// The session's current refresh token (absent where none was issued).
    pub refresh_token: Option<String>,
    /// The session the tokens belong to.
    pub session_id: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    pub user: User,
}

/// Which access-token lifetime a front door wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenLifetime {
    /// Short-lived, renewed with the refresh token.
    #[default]
    Short,
    /// For clients that never refresh (Cocobase, PocketBase).
    LongLived,
}

/// `signUp`.
#[derive(Clone, Debug, Default)]
pub struct SignUpRequest {
    pub email: String,
    pub password: String,
    pub data: Map<String, Value>,
    pub collection: Option<String>,
    /// The sign-in that follows (no challenge answers it: the user is new).
    pub context: SignInContext,
    /// The id chosen for the user before its files were stored.
    pub id: Option<String>,
    /// Files stored for the new user (their names join `data`).
    pub files: Vec<NewFile>,
}

/// What a sign-in needs besides its credential, whatever the credential (a
/// password, a mailed code, a passkey, an OAuth2 provider): where it comes
/// from, how long its tokens live, and the challenge it answers as its
/// second method.
#[derive(Clone, Debug, Default)]
pub struct SignInContext {
    pub client: ClientInfo,
    pub lifetime: TokenLifetime,
    /// The challenge this sign-in answers as its second method (PocketBase's
    /// `mfaId`); a first factor otherwise.
    pub mfa_id: Option<String>,
}

impl SignInContext {
    /// A sign-in from `client` that answers no challenge.
    pub fn new(client: &ClientInfo, lifetime: TokenLifetime) -> Self {
        Self {
            client: client.clone(),
            lifetime,
            mfa_id: None,
        }
    }

    /// The same sign-in, answering the challenge `mfa_id` when there is one.
    pub fn answering(self, mfa_id: Option<String>) -> Self {
        Self { mfa_id, ..self }
    }
}

/// `logIn`.
#[derive(Clone, Debug, Default)]
pub struct LogInRequest {
    /// The email address, or the value of `identity_field`.
    pub email: String,
    /// Log in by a declared unique text field (e.g. `username`) instead of email.
    pub identity_field: Option<String>,
    pub password: String,
    pub collection: Option<String>,
    pub context: SignInContext,
}

/// `updateMe`: merge `data`, then `$append`, then `$remove`.
#[derive(Clone, Debug, Default)]
pub struct UpdateProfileRequest {
    pub data: Map<String, Value>,
    pub append: Map<String, Value>,
    pub remove: Map<String, Value>,
}

/// `changePassword`: the signed-in user's own change, so the current password
/// is always checked (an administrator sets one through an account update).
#[derive(Clone, Debug, Default)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    pub lifetime: TokenLifetime,
    /// Also revoke the caller's own earlier access tokens (a new one is returned).
    /// Dialects that cannot hand the client a new token keep them valid; every
    /// other session ends either way.
    pub revoke_current_tokens: bool,
    /// Where the change comes from (attempts are limited per address).
    pub client: crate::domain::client::ClientInfo,
}

/// A page of users.
#[derive(Clone, Debug)]
pub struct UserPage {
    pub items: Vec<User>,
    pub total: Option<u64>,
}

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: u64 = 500;

/// A list request: filter, order and page.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Only this collection; every collection of the project when `None`.
    pub collection: Option<String>,
    pub filter: Option<Filter>,
    /// Sort keys; newest first when empty. The id always breaks ties.
    pub sort: Vec<Sort>,
    pub limit: u64,
    pub offset: u64,
    /// Count every match (costs a second query).
    pub with_total: bool,
}

/// Trims and checks an email address; returns (as typed, normalized).
///
/// Addresses carrying control, bidirectional, zero-width or other format
/// characters (general category Cf) are refused: they render like someone
/// else's address. The normalized form, which uniqueness and log-in compare,
/// is the NFC local part lowercased and the domain in its IDNA (punycode)
/// lowercase form, so `ann@exämple.com` and `ann@xn--exmple-cua.com` are one
/// account, and so are an NFD and an NFC spelling of the same local part.
pub fn normalize_email(raw: &str) -> AppResult<(String, String)> {
    use unicode_normalization::UnicodeNormalization;
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

    let email = raw.trim();
    let deceptive = |c: char| {
        c.is_control() || c.is_whitespace() || c.general_category() == GeneralCategory::Format
    };
    if email.len() > 254 || email.chars().any(deceptive) {
        return Err(AppError::InvalidEmail);
    }
    let (local, domain) = email.split_once('@').ok_or(AppError::InvalidEmail)?;
    let local: String = local.nfc().collect();
    let ascii_domain = idna::domain_to_ascii(domain).map_err(|_| AppError::InvalidEmail)?;
    let valid = !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| c.is_ascii_graphic() || !c.is_ascii())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !domain.contains('@')
        && ascii_domain.len() <= 253
        && ascii_domain.contains('.')
        && ascii_domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !valid {
        return Err(AppError::InvalidEmail);
    }
    let domain: String = domain.nfc().collect();
    Ok((
        format!("{local}@{domain}"),
        format!("{}@{ascii_domain}", local.to_lowercase()),
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            ("Ann@Example.COM".into(), "ann@example.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@@example.com",
            "ann@-x.com",
            "a..b@x.com",
            "ann\u{202E}moc@example.com",
            "ann@exam\u{2066}ple.com",
            "an\u{200B}n@example.com",
            "ann\u{FEFF}@example.com",
            "ann@example\u{2060}.com",
            "ann\u{200F}@example.com",
            "an\u{7}n@example.com",
            "an\u{A0}n@example.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn internationalized_addresses_have_one_canonical_form() {
        let unicode = normalize_email("user@ex\u{E4}mple.com").unwrap().1;
        assert_eq!(unicode, "user@xn--exmple-cua.com");
        assert_eq!(
            normalize_email("user@XN--EXMPLE-CUA.com").unwrap().1,
            unicode
        );
        assert_eq!(normalize_email("user@EX\u{C4}MPLE.com").unwrap().1, unicode);
        let nfc = normalize_email("j\u{F6}rg@example.com").unwrap();
        let nfd = normalize_email("jo\u{308}rg@example.com").unwrap();
        assert_eq!(nfc.1, nfd.1);
        assert_eq!(nfd.0, "j\u{F6}rg@example.com");
    }
}
