//! Who is on the other end of a request.

/// Where a request came from, recorded on the session.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The `Origin` header (passkeys pick their relying party by it).
    pub origin: Option<String>,
}

/// At most `max` characters of `s` (what is kept of a client's headers).
pub fn clip(s: Option<String>, max: usize) -> Option<String> {
    s.map(|v| v.chars().take(max).collect())
}
