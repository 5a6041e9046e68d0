//! One-time codes (`one_time_codes`): at most one live code per user and
//! purpose (a unique index; a new code replaces the old one in one upsert).
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::raw::{self, execute, query_one};
use crate::error::AppResult;

/// A code as stored: only keyed hashes of the token and the six digits.
pub struct NewCode<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub purpose: &'a str,
    pub token_hash: String,
    pub otp_hash: String,
    pub expires_at: i64,
    pub created_at: i64,
    pub payload: Option<&'a str>,
}

/// A live code found by its token, its user or its id.
#[derive(FromQueryResult)]
pub struct LiveCode {
    pub id: String,
    pub user_id: String,
    pub otp_hash: String,
    pub attempts: i32,
    pub payload: Option<String>,
}

/// Stores a code, replacing the user's older one of the same purpose.
pub async fn upsert(db: &impl ConnectionTrait, code: NewCode<'_>) -> AppResult<()> {
    execute(
        db,
        "INSERT INTO one_time_codes (id, user_id, purpose, token_hash, otp_hash, attempts, expires_at, created_at, payload) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8) \
         ON CONFLICT (user_id, purpose) DO UPDATE SET id = excluded.id, \
         token_hash = excluded.token_hash, otp_hash = excluded.otp_hash, attempts = 0, \
         expires_at = excluded.expires_at, created_at = excluded.created_at, \
         payload = excluded.payload",
        vec![
            code.id.into(),
            code.user_id.into(),
            code.purpose.into(),
            code.token_hash.into(),
            code.otp_hash.into(),
            code.expires_at.into(),
            code.created_at.into(),
            code.payload.map(str::to_owned).into(),
        ],
    )
    .await?;
    Ok(())
}

/// Where a live code is looked up.
pub enum Key<'a> {
    /// By the keyed hash of its token.
    TokenHash(&'a str),
    /// The user's code of the purpose.
    User(&'a str),
    /// By its id.
    Id(&'a str),
}

/// The live (unexpired) code of `purpose` that `key` names.
pub async fn live(
    db: &impl ConnectionTrait,
    key: Key<'_>,
    purpose: &str,
    now: i64,
) -> AppResult<Option<LiveCode>> {
    let (column, value) = match key {
        Key::TokenHash(h) => ("token_hash", h),
        Key::User(u) => ("user_id", u),
        Key::Id(i) => ("id", i),
    };
    let text = format!(
        "SELECT id, user_id, otp_hash, attempts, payload FROM one_time_codes \
         WHERE {column} = $1 AND purpose = $2 AND expires_at > $3"
    );
    let row = query_one(db, &text, vec![value.into(), purpose.into(), now.into()]).await?;
    Ok(row
        .map(|r| LiveCode::from_query_result(&r, ""))
        .transpose()?)
}

/// Counts a wrong guess; `drop` deletes the code instead (its last guess).
pub async fn count_wrong(db: &impl ConnectionTrait, id: &str, drop: bool) -> AppResult<()> {
    raw::count_wrong(db, "one_time_codes", id, drop).await
}

/// Deletes a code; true when this call took it (one of two racing ones does).
pub async fn take(db: &impl ConnectionTrait, id: &str) -> AppResult<bool> {
    raw::take(db, "one_time_codes", id).await
}
