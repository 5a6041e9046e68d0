//! Passkeys (`passkeys`) and the challenges of their ceremonies
//! (`passkey_challenges`).
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::raw::{self, execute, execute_one, forget_expired, query_all, query_one};
use crate::error::AppResult;

/// A passkey as stored.
#[derive(Clone, Debug, FromQueryResult)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub project_id: String,
    pub rp_id: String,
    pub credential_id: String,
    /// webauthn-rs's `Credential` as JSON.
    pub credential: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, project_id, rp_id, credential_id, credential, name, created_at, last_used_at";

fn rows_of(rows: Vec<sea_orm::QueryResult>) -> AppResult<Vec<PasskeyRow>> {
    rows.iter()
        .map(|r| Ok(PasskeyRow::from_query_result(r, "")?))
        .collect()
}

pub async fn insert(db: &impl ConnectionTrait, p: &PasskeyRow) -> AppResult<()> {
    let text =
        format!("INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)");
    // The text columns, then the time (a new passkey is not used yet).
    let texts = [
        &p.id,
        &p.user_id,
        &p.project_id,
        &p.rp_id,
        &p.credential_id,
        &p.credential,
        &p.name,
    ];
    let values = texts.iter().map(|t| t.as_str().into());
    execute(db, &text, values.chain([p.created_at.into()]).collect()).await?;
    Ok(())
}

/// The user's passkeys, oldest first.
pub async fn of_user(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<PasskeyRow>> {
    let text = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id");
    rows_of(query_all(db, &text, vec![user_id.into()]).await?)
}

/// The passkey of a project with this credential id.
pub async fn by_credential(
    db: &impl ConnectionTrait,
    project_id: &str,
    credential_id: &str,
) -> AppResult<Option<PasskeyRow>> {
    let text =
        format!("SELECT {COLUMNS} FROM passkeys WHERE project_id = $1 AND credential_id = $2");
    let row = query_one(db, &text, vec![project_id.into(), credential_id.into()]).await?;
    Ok(rows_of(row.into_iter().collect())?.pop())
}

/// Records a use: the new credential state (its counter) and the time; true
/// when the stored state was still `expected` (of two racing uses, one wins).
pub async fn record_use(
    db: &impl ConnectionTrait,
    id: &str,
    expected: &str,
    credential: &str,
    now: i64,
) -> AppResult<bool> {
    execute_one(
        db,
        "UPDATE passkeys SET credential = $3, last_used_at = $4 WHERE id = $1 AND credential = $2",
        vec![id.into(), expected.into(), credential.into(), now.into()],
    )
    .await
}

/// Renames one of the user's passkeys; false when it has none of that id.
pub async fn rename(
    db: &impl ConnectionTrait,
    user_id: &str,
    id: &str,
    name: &str,
) -> AppResult<bool> {
    execute_one(
        db,
        "UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2",
        vec![user_id.into(), id.into(), name.into()],
    )
    .await
}

/// Deletes one of the user's passkeys; false when it has none of that id.
pub async fn delete(db: &impl ConnectionTrait, user_id: &str, id: &str) -> AppResult<bool> {
    execute_one(
        db,
        "DELETE FROM passkeys WHERE user_id = $1 AND id = $2",
        vec![user_id.into(), id.into()],
    )
    .await
}

/// How many OAuth2 identities the user has (another way to sign in).
pub async fn identities(db: &impl ConnectionTrait, user_id: &str) -> AppResult<i64> {
    let row = query_one(
        db,
        "SELECT COUNT(*) AS n FROM oauth_identities WHERE user_id = $1",
        vec![user_id.into()],
    )
    .await?;
    Ok(row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0))
}

/// A ceremony waiting for the authenticator's answer.
#[derive(Clone, Debug, FromQueryResult)]
pub struct CeremonyRow {
    pub id: String,
    pub challenge_hash: String,
    pub project_id: String,
    pub user_id: Option<String>,
    pub login_challenge_id: Option<String>,
    pub kind: String,
    pub rp_id: String,
    pub state: String,
    pub expires_at: i64,
}

const CEREMONY_COLUMNS: &str =
    "id, challenge_hash, project_id, user_id, login_challenge_id, kind, rp_id, state, expires_at";

/// Stores a ceremony, forgetting expired ones.
pub async fn insert_ceremony(
    db: &impl ConnectionTrait,
    c: &CeremonyRow,
    now: i64,
) -> AppResult<()> {
    forget_expired(db, "passkey_challenges", now).await?;
    execute(
        db,
        &format!(
            "INSERT INTO passkey_challenges ({CEREMONY_COLUMNS}, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        vec![
            c.id.as_str().into(),
            c.challenge_hash.as_str().into(),
            c.project_id.as_str().into(),
            c.user_id.clone().into(),
            c.login_challenge_id.clone().into(),
            c.kind.as_str().into(),
            c.rp_id.as_str().into(),
            c.state.as_str().into(),
            c.expires_at.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Takes (deletes and returns) the live ceremony of a project with this
/// challenge hash and kind: a challenge answers once.
pub async fn take_ceremony(
    db: &impl ConnectionTrait,
    project_id: &str,
    challenge_hash: &str,
    kind: &str,
    now: i64,
) -> AppResult<Option<CeremonyRow>> {
    let text = format!(
        "SELECT {CEREMONY_COLUMNS} FROM passkey_challenges \
         WHERE challenge_hash = $1 AND project_id = $2 AND kind = $3 AND expires_at > $4"
    );
    let row = query_one(
        db,
        &text,
        vec![
            challenge_hash.into(),
            project_id.into(),
            kind.into(),
            now.into(),
        ],
    )
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let c = CeremonyRow::from_query_result(&row, "")?;
    if !raw::take(db, "passkey_challenges", &c.id).await? {
        return Ok(None);
    }
    Ok(Some(c))
}
