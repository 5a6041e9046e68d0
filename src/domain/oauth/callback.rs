//! What a provider's redirect brings back to one of the server's own URLs
//! (PocketBase's `/api/oauth2-redirect`, urBackend's social callback): the
//! `state`, and a `code` or the provider's `error`. Read from the query
//! (GET) or from an `application/x-www-form-urlencoded` body (Apple's
//! `form_post`). The values are bounded so nothing oversized is forwarded.
use crate::error::{AppError, AppResult};

/// The longest state, code or error accepted.
const MAX_VALUE: usize = 2048;

/// A provider's answer to an authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    pub state: String,
    /// The authorization code, or the provider's error (its `error`, with
    /// `error_description` when given).
    pub result: Result<String, String>,
    /// Apple's `form_post` `user` field (JSON with the name, first sign-in
    /// only); absent elsewhere.
    pub user: Option<String>,
}

impl Callback {
    /// Reads `state`, `code`, `error`, `error_description` and `user` from
    /// URL-encoded pairs.
    pub fn parse(encoded: &[u8]) -> AppResult<Callback> {
        let (mut state, mut code, mut error, mut description, mut user) =
            (None, None, None, None, None);
        for (k, v) in form_urlencoded::parse(encoded) {
            let slot = match k.as_ref() {
                "state" => &mut state,
                "code" => &mut code,
                "error" => &mut error,
                "error_description" => &mut description,
                "user" => &mut user,
                _ => continue,
            };
            if v.len() > MAX_VALUE {
                return Err(AppError::validation(k.into_owned(), "is too long"));
            }
            *slot = Some(v.into_owned()).filter(|v| !v.is_empty());
        }
        let state = state.ok_or_else(|| AppError::required("state", "is missing"))?;
        let result = match (code, error) {
            (_, Some(e)) => Err(match description {
                Some(d) => format!("{e}: {d}"),
                None => e,
            }),
            (Some(c), None) => Ok(c),
            (None, None) => return Err(AppError::required("code", "is missing")),
        };
        Ok(Callback {
            state,
            result,
            user,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callback_brings_a_code_or_an_error_with_its_state() {
        let ok = Callback::parse(b"state=s1&code=c%2F1&scope=x").unwrap();
        assert_eq!(ok.state, "s1");
        assert_eq!(ok.result, Ok("c/1".to_owned()));
        assert_eq!(ok.user, None);
        // Apple's form_post carries the name in `user` on the first sign-in.
        let apple = Callback::parse(b"state=s1&code=c1&user=%7B%22name%22%3A%7B%7D%7D").unwrap();
        assert_eq!(apple.user.as_deref(), Some(r#"{"name":{}}"#));
        let denied =
            Callback::parse(b"state=s1&error=access_denied&error_description=no+thanks").unwrap();
        assert_eq!(denied.result, Err("access_denied: no thanks".to_owned()));
        assert!(Callback::parse(b"code=c1").is_err());
        assert!(Callback::parse(b"state=s1").is_err());
        let long = format!("state=s&code={}", "a".repeat(MAX_VALUE + 1));
        assert!(Callback::parse(long.as_bytes()).is_err());
    }
}
