//! The provider accounts that come with imported users (Firebase's
//! `providerUserInfo`): those of a provider authgraph has become OAuth
//! identities, so a user who signed in with Google there signs in with
//! Google here, as the same user.
use std::collections::BTreeMap;

use super::super::collections::Collection;
use super::super::oauth::config::ProviderKind;
use crate::auth::keys;
use crate::store::oauth::{IdentityKey, NewIdentity};

/// A provider account of an imported user.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceIdentity {
    pub kind: ProviderKind,
    /// The provider's id of the account (its `sub`; Firebase's `rawId`).
    pub subject: String,
    pub email: Option<String>,
}

/// The name a collection signs in with providers of `kind` under: its
/// declared provider of that kind, else the kind's own name (`google`,
/// `apple`, `github`), which a provider declared later takes over.
pub fn provider_name(collection: &Collection, kind: ProviderKind) -> String {
    let declared = collection
        .settings
        .oauth2
        .iter()
        .find(|d| d.provider == kind);
    match declared {
        Some(decl) => decl.name.clone(),
        None => serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
    }
}

/// The identities of a batch's users, ready to insert.
#[derive(Default)]
pub struct Links {
    rows: Vec<Link>,
}

struct Link {
    id: String,
    user_id: String,
    provider: String,
    subject: String,
    email: Option<String>,
}

impl Links {
    /// Adds the identities of the user `user_id`.
    pub fn add(&mut self, collection: &Collection, user_id: &str, found: Vec<SourceIdentity>) {
        for identity in found {
            self.rows.push(Link {
                id: keys::new_id(),
                user_id: user_id.to_owned(),
                provider: provider_name(collection, identity.kind),
                subject: identity.subject,
                email: identity.email,
            });
        }
    }

    pub fn len(&self) -> u64 {
        self.rows.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows to insert into `collection_id` at `now`. The provider did not
    /// say the email was verified to this server, so it counts as unverified.
    pub fn rows<'a>(&'a self, collection_id: &'a str, now: i64) -> Vec<NewIdentity<'a>> {
        let row = |l: &'a Link| NewIdentity {
            id: &l.id,
            key: IdentityKey {
                collection_id,
                provider: &l.provider,
                subject: &l.subject,
            },
            user_id: &l.user_id,
            email: l.email.as_deref(),
            email_verified: false,
            now,
        };
        self.rows.iter().map(row).collect()
    }
}

/// Counts identities that were not imported, by reason.
pub fn skip(skipped: &mut BTreeMap<String, u64>, reason: impl Into<String>) {
    *skipped.entry(reason.into()).or_default() += 1;
}
