//! Second factors (`second_factors`), recovery codes (`recovery_codes`) and
//! log-in challenges (`login_challenges`).
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::raw::{self, delete_where, execute, execute_one, query_all, query_one};
use crate::error::AppResult;

/// A second factor as stored.
#[derive(FromQueryResult)]
pub struct FactorRow {
    pub kind: String,
    pub secret: Option<String>,
    pub confirmed: bool,
    pub last_step: i64,
    pub created_at: i64,
}

/// The user's factors, confirmed or not.
pub async fn factors(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<FactorRow>> {
    let rows = query_all(
        db,
        "SELECT kind, secret, confirmed, last_step, created_at FROM second_factors \
         WHERE user_id = $1 ORDER BY kind",
        vec![user_id.into()],
    )
    .await?;
    rows.iter()
        .map(|r| Ok(FactorRow::from_query_result(r, "")?))
        .collect()
}

/// Stores a factor of `kind`, replacing the user's earlier one of that kind.
pub async fn put(
    db: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
    kind: &str,
    secret: Option<String>,
    confirmed: bool,
    now: i64,
) -> AppResult<()> {
    execute(
        db,
        "INSERT INTO second_factors (id, user_id, kind, secret, confirmed, last_step, created_at) \
         VALUES ($1, $2, $3, $4, $5, -1, $6) \
         ON CONFLICT (user_id, kind) DO UPDATE SET id = excluded.id, secret = excluded.secret, \
         confirmed = excluded.confirmed, last_step = -1, created_at = excluded.created_at",
        vec![
            id.into(),
            user_id.into(),
            kind.into(),
            secret.into(),
            confirmed.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Marks a TOTP factor confirmed and records the step used; true when this
/// call moved it past `step` (of two racing uses of one code, one wins).
pub async fn use_step(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: &str,
    step: i64,
) -> AppResult<bool> {
    execute_one(
        db,
        "UPDATE second_factors SET last_step = $3, confirmed = $4 \
         WHERE user_id = $1 AND kind = $2 AND last_step < $3",
        vec![user_id.into(), kind.into(), step.into(), true.into()],
    )
    .await
}

/// Deletes the user's factors (of `kind`, or all), their recovery codes when
/// all go, and their open challenges. The number of factors deleted.
pub async fn delete(
    db: &impl ConnectionTrait,
    user_id: &str,
    kind: Option<&str>,
) -> AppResult<u64> {
    let n = match kind {
        Some(k) => {
            execute(
                db,
                "DELETE FROM second_factors WHERE user_id = $1 AND kind = $2",
                vec![user_id.into(), k.into()],
            )
            .await?
        }
        None => delete_where(db, "second_factors", "user_id", user_id).await?,
    };
    delete_where(db, "login_challenges", "user_id", user_id).await?;
    Ok(n)
}

/// Replaces the user's recovery codes with `hashes`.
pub async fn replace_recovery(
    db: &impl ConnectionTrait,
    user_id: &str,
    hashes: &[(String, String)],
) -> AppResult<()> {
    delete_recovery(db, user_id).await?;
    for (id, hash) in hashes {
        execute(
            db,
            "INSERT INTO recovery_codes (id, user_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)",
            vec![id.as_str().into(), user_id.into(), hash.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

pub async fn delete_recovery(db: &impl ConnectionTrait, user_id: &str) -> AppResult<()> {
    delete_where(db, "recovery_codes", "user_id", user_id).await?;
    Ok(())
}

/// The user's unused recovery codes: (id, hash).
pub async fn unused_recovery(
    db: &impl ConnectionTrait,
    user_id: &str,
) -> AppResult<Vec<(String, String)>> {
    let rows = query_all(
        db,
        "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        vec![user_id.into()],
    )
    .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("", "id")?, r.try_get("", "code_hash")?)))
        .collect()
}

/// Spends a recovery code; true when this call did (one of two racing ones does).
pub async fn spend_recovery(db: &impl ConnectionTrait, id: &str, now: i64) -> AppResult<bool> {
    execute_one(
        db,
        "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        vec![id.into(), now.into()],
    )
    .await
}

/// A log-in challenge as stored.
#[derive(FromQueryResult)]
pub struct ChallengeRow {
    pub id: String,
    pub user_id: String,
    pub project_id: String,
    pub collection_id: String,
    pub first_method: String,
    pub methods: String,
    pub attempts: i32,
    pub long_lived: bool,
    pub expires_at: i64,
}

pub async fn insert_challenge(
    db: &impl ConnectionTrait,
    c: &ChallengeRow,
    now: i64,
) -> AppResult<()> {
    // The text columns, then the flag and the times.
    let texts = [
        &c.id,
        &c.user_id,
        &c.project_id,
        &c.collection_id,
        &c.first_method,
        &c.methods,
    ];
    execute(
        db,
        "INSERT INTO login_challenges (id, user_id, project_id, collection_id, first_method, \
         methods, attempts, long_lived, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9)",
        texts
            .iter()
            .map(|t| t.as_str().into())
            .chain([c.long_lived.into(), c.expires_at.into(), now.into()])
            .collect(),
    )
    .await?;
    Ok(())
}

const CHALLENGE_COLUMNS: &str = "id, user_id, project_id, collection_id, first_method, methods, \
     attempts, long_lived, expires_at";

fn challenge_of(r: sea_orm::QueryResult) -> AppResult<ChallengeRow> {
    Ok(ChallengeRow::from_query_result(&r, "")?)
}

/// Where a live challenge is looked up.
pub enum ChallengeKey<'a> {
    /// By its id.
    Id(&'a str),
    /// The user's newest (Cocobase names the user, not the challenge).
    NewestOf(&'a str),
}

/// The live (unexpired) challenge `key` names.
pub async fn live_challenge(
    db: &impl ConnectionTrait,
    key: ChallengeKey<'_>,
    now: i64,
) -> AppResult<Option<ChallengeRow>> {
    let (column, value, order) = match key {
        ChallengeKey::Id(id) => ("id", id, ""),
        ChallengeKey::NewestOf(user_id) => {
            ("user_id", user_id, " ORDER BY created_at DESC, id LIMIT 1")
        }
    };
    let text = format!(
        "SELECT {CHALLENGE_COLUMNS} FROM login_challenges WHERE {column} = $1 AND expires_at > $2{order}"
    );
    query_one(db, &text, vec![value.into(), now.into()])
        .await?
        .map(challenge_of)
        .transpose()
}

/// Counts a wrong answer; `drop` deletes the challenge instead (its last one).
pub async fn count_wrong(db: &impl ConnectionTrait, id: &str, drop: bool) -> AppResult<()> {
    raw::count_wrong(db, "login_challenges", id, drop).await
}

/// Deletes a challenge; true when this call took it.
pub async fn take_challenge(db: &impl ConnectionTrait, id: &str) -> AppResult<bool> {
    raw::take(db, "login_challenges", id).await
}
