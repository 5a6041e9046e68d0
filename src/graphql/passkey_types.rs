//! GraphQL types of passkeys.
use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use crate::domain::passkeys::Passkey;

/// One of your passkeys.
#[derive(SimpleObject)]
#[graphql(name = "Passkey")]
pub struct PasskeyObject {
    pub id: String,
    /// Your name for it.
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// When it last signed in; null before its first use.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<Passkey> for PasskeyObject {
    fn from(p: Passkey) -> Self {
        Self {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        }
    }
}
