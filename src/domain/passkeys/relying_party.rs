//! The relying parties this server answers for: the configured one (by
//! default the host of `public_url`) and, for development, `localhost`.
use std::sync::Arc;
use std::time::Duration;

use url::Url;
use webauthn_rs_core::WebauthnCore;

/// How long a browser waits for the authenticator, and a ceremony lives.
pub const CEREMONY_TTL_SECS: i64 = 300;

/// One relying party: its id and the origins it accepts.
pub struct RelyingParty {
    pub id: String,
    pub(super) core: WebauthnCore,
}

/// The relying parties, the configured one first; cheap to clone.
#[derive(Clone)]
pub struct RelyingParties(Arc<Vec<RelyingParty>>);

/// Relying-party settings, read from the configuration.
pub struct RpSettings<'a> {
    /// `AUTHGRAPH_PASSKEY_RP_ID`; empty = the host of `public_url`, else `localhost`.
    pub rp_id: &'a str,
    /// `AUTHGRAPH_PASSKEY_ORIGINS`, comma-separated; empty = `public_url`'s origin.
    pub origins: &'a str,
    /// `AUTHGRAPH_PUBLIC_URL`.
    pub public_url: &'a str,
    /// `AUTHGRAPH_PASSKEY_LOCALHOST`: also answer for `localhost` (any port).
    pub localhost: bool,
}

const LOCALHOST: &str = "localhost";

fn is_origin_of(origin: &Url, rp_id: &str) -> bool {
    origin.host_str().is_some_and(|h| {
        h == rp_id
            || h.strip_suffix(rp_id)
                .is_some_and(|prefix| prefix.ends_with('.'))
    })
}

fn localhost() -> RelyingParty {
    let origins = ["http://localhost", "https://localhost"]
        .iter()
        .filter_map(|o| Url::parse(o).ok())
        .collect();
    let timeout = Duration::from_secs(CEREMONY_TTL_SECS as u64);
    RelyingParty {
        id: LOCALHOST.into(),
        core: WebauthnCore::new_unsafe_experts_only(
            "authgraph",
            LOCALHOST,
            origins,
            timeout,
            Some(false),
            Some(true),
        ),
    }
}

impl RelyingParties {
    /// Builds them from the settings; an error names the setting to fix.
    pub fn new(s: &RpSettings<'_>) -> Result<Self, String> {
        let public = Url::parse(s.public_url).ok();
        let rp_id = match (s.rp_id.trim(), public.as_ref().and_then(|u| u.host_str())) {
            ("", Some(host)) => host.to_ascii_lowercase(),
            ("", None) => LOCALHOST.into(),
            (id, _) => id.to_ascii_lowercase(),
        };
        if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
            return Err(
                "AUTHGRAPH_PASSKEY_RP_ID must be a domain name such as `example.com`".into(),
            );
        }
        let mut parties = vec![];
        if rp_id == LOCALHOST {
            parties.push(localhost());
        } else {
            let mut origins = vec![];
            for o in s
                .origins
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
            {
                let url = Url::parse(o)
                    .map_err(|_| format!("AUTHGRAPH_PASSKEY_ORIGINS: `{o}` is not a URL"))?;
                origins.push(url);
            }
            if origins.is_empty() {
                origins.extend(public.filter(|u| is_origin_of(u, &rp_id)));
            }
            if origins.is_empty() {
                return Err(format!(
                    "passkeys for `{rp_id}` need an origin: set AUTHGRAPH_PASSKEY_ORIGINS \
                     (e.g. https://{rp_id})"
                ));
            }
            if let Some(o) = origins.iter().find(|o| !is_origin_of(o, &rp_id)) {
                return Err(format!(
                    "AUTHGRAPH_PASSKEY_ORIGINS: `{o}` is not on `{rp_id}` (AUTHGRAPH_PASSKEY_RP_ID)"
                ));
            }
            let timeout = Duration::from_secs(CEREMONY_TTL_SECS as u64);
            let core = WebauthnCore::new_unsafe_experts_only(
                "authgraph",
                &rp_id,
                origins,
                timeout,
                Some(false),
                Some(false),
            );
            parties.push(RelyingParty { id: rp_id, core });
            if s.localhost {
                parties.push(localhost());
            }
        }
        Ok(Self(Arc::new(parties)))
    }

    /// The relying party of a request from `origin` (its `Origin` header):
    /// the one whose id is the origin's host or a parent of it, else the first.
    pub fn for_origin(&self, origin: Option<&str>) -> &RelyingParty {
        let url = origin.and_then(|o| Url::parse(o).ok());
        url.and_then(|u| self.0.iter().find(|rp| is_origin_of(&u, &rp.id)))
            .unwrap_or(&self.0[0])
    }

    /// The relying party named `id`, if this server answers for it.
    pub fn by_id(&self, id: &str) -> Option<&RelyingParty> {
        self.0.iter().find(|rp| rp.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(rp_id: &'a str, origins: &'a str, public_url: &'a str) -> RpSettings<'a> {
        RpSettings {
            rp_id,
            origins,
            public_url,
            localhost: true,
        }
    }

    #[test]
    fn the_rp_id_defaults_to_the_host_of_the_public_url_with_localhost_beside_it() {
        let rps = RelyingParties::new(&settings("", "", "https://auth.example.com/x")).unwrap();
        assert_eq!(rps.for_origin(None).id, "auth.example.com");
        assert_eq!(
            rps.for_origin(Some("http://localhost:5173")).id,
            "localhost"
        );
        assert_eq!(
            rps.for_origin(Some("https://evil.test")).id,
            "auth.example.com"
        );
    }

    #[test]
    fn without_a_public_url_the_rp_id_is_localhost() {
        let rps = RelyingParties::new(&settings("", "", "")).unwrap();
        assert_eq!(rps.for_origin(None).id, "localhost");
        assert!(rps.by_id("example.com").is_none());
    }

    #[test]
    fn an_origin_outside_the_rp_id_is_refused_at_start() {
        let err = RelyingParties::new(&settings("example.com", "https://other.test", ""));
        assert!(err.err().unwrap().contains("AUTHGRAPH_PASSKEY_ORIGINS"));
        let err = RelyingParties::new(&settings("example.com", "", ""));
        assert!(err.err().unwrap().contains("need an origin"));
        assert!(
            RelyingParties::new(&settings("example.com", "https://app.example.com", "")).is_ok()
        );
    }
}
