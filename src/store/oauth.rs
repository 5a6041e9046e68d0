//! OAuth2 sign-in: identities (`oauth_identities`) and pending flows (`oauth_flows`).
use sea_orm::{ConnectionTrait, Value};

use super::raw::{execute, forget_expired, query_all, query_one};
use crate::error::AppResult;

/// A pending flow, as its start stored it.
pub struct FlowRow {
    pub project_id: String,
    pub collection_id: String,
    pub provider: String,
    pub redirect_url: String,
    /// The PKCE verifier, sealed by the domain (`auth::seal`), never plain.
    pub code_verifier: String,
    pub nonce: String,
}

/// Forgets the expired rows of `table`, then runs the insert `text`.
async fn insert_fresh(
    db: &impl ConnectionTrait,
    table: &'static str,
    now: i64,
    text: &str,
    values: Vec<Value>,
) -> AppResult<()> {
    forget_expired(db, table, now).await?;
    execute(db, text, values).await?;
    Ok(())
}

/// Stores a flow under the hash of its state, and forgets expired ones.
pub async fn put_flow(
    db: &impl ConnectionTrait,
    state_hash: &str,
    f: FlowRow,
    expires_at: i64,
    now: i64,
) -> AppResult<()> {
    let text = "INSERT INTO oauth_flows (state_hash, project_id, collection_id, provider, \
         redirect_url, code_verifier, nonce, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let texts = [
        state_hash.to_owned(),
        f.project_id,
        f.collection_id,
        f.provider,
        f.redirect_url,
        f.code_verifier,
        f.nonce,
    ];
    let mut values: Vec<Value> = texts.into_iter().map(Value::from).collect();
    values.push(expires_at.into());
    insert_fresh(db, "oauth_flows", now, text, values).await
}

/// Takes a live flow: of two callers with one state, only one gets it.
pub async fn take_flow(
    db: &impl ConnectionTrait,
    state_hash: &str,
    now: i64,
) -> AppResult<Option<FlowRow>> {
    let Some(r) = query_one(
        db,
        "SELECT project_id, collection_id, provider, redirect_url, code_verifier, nonce \
         FROM oauth_flows WHERE state_hash = $1 AND expires_at > $2",
        vec![state_hash.into(), now.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let n = execute(
        db,
        "DELETE FROM oauth_flows WHERE state_hash = $1",
        vec![state_hash.into()],
    )
    .await?;
    if n != 1 {
        return Ok(None);
    }
    Ok(Some(FlowRow {
        project_id: r.try_get("", "project_id")?,
        collection_id: r.try_get("", "collection_id")?,
        provider: r.try_get("", "provider")?,
        redirect_url: r.try_get("", "redirect_url")?,
        code_verifier: r.try_get("", "code_verifier")?,
        nonce: r.try_get("", "nonce")?,
    }))
}

/// An identity as stored.
pub struct IdentityRow {
    pub provider: String,
    pub user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

fn identity(r: sea_orm::QueryResult) -> AppResult<IdentityRow> {
    Ok(IdentityRow {
        provider: r.try_get("", "provider")?,
        user_id: r.try_get("", "user_id")?,
        email: r.try_get("", "email")?,
        email_verified: r.try_get("", "email_verified")?,
    })
}

/// The identity of a provider's account in a collection.
pub async fn find_identity(
    db: &impl ConnectionTrait,
    key: IdentityKey<'_>,
) -> AppResult<Option<IdentityRow>> {
    query_one(
        db,
        "SELECT provider, user_id, email, email_verified FROM oauth_identities \
         WHERE collection_id = $1 AND provider = $2 AND subject = $3",
        key.values(),
    )
    .await?
    .map(identity)
    .transpose()
}

/// A user's identities, by provider name.
pub async fn identities_of(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> AppResult<Vec<IdentityRow>> {
    query_all(
        db,
        "SELECT provider, user_id, email, email_verified FROM oauth_identities \
         WHERE user_id = $1 ORDER BY provider, created_at",
        vec![user_id.into()],
    )
    .await?
    .into_iter()
    .map(identity)
    .collect()
}

/// An identity's key: a provider's account (its `subject`) in a collection.
#[derive(Clone, Copy)]
pub struct IdentityKey<'a> {
    pub collection_id: &'a str,
    pub provider: &'a str,
    pub subject: &'a str,
}

impl IdentityKey<'_> {
    /// `$1`…`$3`: collection, provider, subject.
    fn values(self) -> Vec<Value> {
        vec![
            self.collection_id.into(),
            self.provider.into(),
            self.subject.into(),
        ]
    }
}

/// `$1`…`$6` of both the insert and the email update: the identity's key,
/// then its email, whether verified, and now.
fn key_and_email(
    key: IdentityKey<'_>,
    email: Option<&str>,
    verified: bool,
    now: i64,
) -> Vec<Value> {
    let mut values = key.values();
    values.extend([email.map(str::to_owned).into(), verified.into(), now.into()]);
    values
}

/// Links a provider's account to a user.
pub async fn insert_identity(
    db: &impl ConnectionTrait,
    id: &str,
    key: IdentityKey<'_>,
    user_id: &str,
    email: Option<&str>,
    email_verified: bool,
    now: i64,
) -> AppResult<()> {
    let new = NewIdentity {
        id,
        key,
        user_id,
        email,
        email_verified,
        now,
    };
    insert_row(db, new, "").await?;
    Ok(())
}

/// An identity to insert.
pub struct NewIdentity<'a> {
    pub id: &'a str,
    pub key: IdentityKey<'a>,
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub now: i64,
}

/// Links a provider's account to a user unless that account is linked
/// already (to anyone); tells whether it was linked now.
pub async fn insert_identity_if_new(
    db: &impl ConnectionTrait,
    new: NewIdentity<'_>,
) -> AppResult<bool> {
    let tail = " ON CONFLICT (collection_id, provider, subject) DO NOTHING";
    Ok(insert_row(db, new, tail).await? == 1)
}

async fn insert_row(db: &impl ConnectionTrait, new: NewIdentity<'_>, tail: &str) -> AppResult<u64> {
    let mut values = key_and_email(new.key, new.email, new.email_verified, new.now);
    values.extend([new.id.into(), new.user_id.into()]);
    let sql = format!(
        "INSERT INTO oauth_identities (collection_id, provider, subject, email, email_verified, \
         created_at, updated_at, id, user_id) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8){tail}"
    );
    execute(db, &sql, values).await
}

/// Records what the provider now says of the account's email.
pub async fn update_identity_email(
    db: &impl ConnectionTrait,
    key: IdentityKey<'_>,
    email: Option<&str>,
    email_verified: bool,
    now: i64,
) -> AppResult<()> {
    execute(
        db,
        "UPDATE oauth_identities SET email = $4, email_verified = $5, updated_at = $6 \
         WHERE collection_id = $1 AND provider = $2 AND subject = $3",
        key_and_email(key, email, email_verified, now),
    )
    .await?;
    Ok(())
}

/// The project of a live flow, without taking it: a callback at the server's
/// own URL carries no key, only the state.
pub async fn flow_project(
    db: &impl ConnectionTrait,
    state_hash: &str,
    now: i64,
) -> AppResult<Option<String>> {
    query_one(
        db,
        "SELECT project_id FROM oauth_flows WHERE state_hash = $1 AND expires_at > $2",
        vec![state_hash.into(), now.into()],
    )
    .await?
    .map(|r| Ok(r.try_get("", "project_id")?))
    .transpose()
}

/// Binds a flow to the user whose identity it links (`oauth_flow_links`),
/// and forgets expired bindings.
pub async fn put_flow_link(
    db: &impl ConnectionTrait,
    state_hash: &str,
    user_id: &str,
    expires_at: i64,
    now: i64,
) -> AppResult<()> {
    let text = "INSERT INTO oauth_flow_links (state_hash, user_id, expires_at) VALUES ($1, $2, $3)";
    let values = vec![state_hash.into(), user_id.into(), expires_at.into()];
    insert_fresh(db, "oauth_flow_links", now, text, values).await
}

/// Takes a flow's binding: the user it links an identity to, if any.
pub async fn take_flow_link(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> AppResult<Option<String>> {
    let user = query_one(
        db,
        "SELECT user_id FROM oauth_flow_links WHERE state_hash = $1",
        vec![state_hash.into()],
    )
    .await?
    .map(|r| r.try_get::<String>("", "user_id"))
    .transpose()?;
    if user.is_some() {
        execute(
            db,
            "DELETE FROM oauth_flow_links WHERE state_hash = $1",
            vec![state_hash.into()],
        )
        .await?;
    }
    Ok(user)
}

/// Removes a user's identity with a provider; the number of rows removed.
pub async fn delete_identity(
    db: &impl ConnectionTrait,
    user_id: &str,
    provider: &str,
) -> AppResult<u64> {
    execute(
        db,
        "DELETE FROM oauth_identities WHERE user_id = $1 AND provider = $2",
        vec![user_id.into(), provider.into()],
    )
    .await
}
