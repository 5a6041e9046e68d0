//! Rate limits and account lockout (security checklist §5.2, items 9–12).
//!
//! Counters kept in the database (`rate_limits`), so every instance on one
//! Postgres counts against the same buckets. Rate limits are leaky buckets
//! (`hit`: no burst at a window's edge); the lockout counts failures in a
//! fixed window, which it then locks:
//! - log-ins and sign-ups per client address (IPv6 by its /64), counted for
//!   every attempt, whatever its outcome;
//! - failed log-ins per identifier (collection + email or identity value),
//!   which lock the identifier for the rest of the window: a correct password
//!   is refused too until it ends. The bucket is keyed by the identifier, not
//!   by a user, so unknown and known emails lock alike (no enumeration), and
//!   its key is a digest (no email addresses in the table);
//! - token refreshes and password changes (every attempt, a wrong current
//!   password included) per account and per client address;
//! - requests and confirmations of mailed codes per client address, and
//!   mailed codes per account and purpose (more are not sent, silently: the
//!   caller may not know the account exists);
//! - second-factor and one-time-code verifications (TOTP, recovery codes,
//!   codes by mail) per account and per client address, with a short window
//!   of their own: a six-digit code cannot be guessed.
//!
//! Each GraphQL `logIn` field is one attempt, so aliases batched into one
//! request are counted one by one. A locked account is not stuck: a
//! secret-key caller can still set its password, which clears the lock.
use std::net::IpAddr;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

pub mod rules;

pub use rules::{Limits, Rule};

use crate::domain::client::ClientInfo;
use crate::domain::services::Services;
use crate::error::{AppError, AppResult};
use crate::metrics::{AuthMethod, AuthOutcome};
use crate::store::raw::{delete_where, execute, query_one};

/// The bucket of a client address: IPv4 as is, IPv6 by its /64 (one host
/// usually holds a whole /64).
pub fn ip_bucket(kind: &str, ip: &str) -> Option<String> {
    let ip: IpAddr = ip.parse().ok()?;
    let key = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    Some(format!("{kind}:ip:{key}"))
}

/// The failed-log-in bucket of an identifier in a collection.
pub fn identity_bucket(collection_id: &str, identifier: &str) -> String {
    let mut h = Sha256::new();
    h.update(collection_id.as_bytes());
    h.update([0]);
    h.update(identifier.trim().to_lowercase().as_bytes());
    format!("fail:{}", hex::encode(h.finalize()))
}

fn limited(retry_after: i64) -> AppError {
    AppError::RateLimited {
        retry_after: retry_after.max(1) as u64,
    }
}

/// Counts one hit in `bucket` (a new window when the last one ended);
/// returns the window's start and its hits so far.
async fn count(db: &impl ConnectionTrait, bucket: &str, window_secs: u64) -> AppResult<(i64, i64)> {
    let now = Utc::now().timestamp();
    let expired = now - window_secs as i64;
    let row = query_one(
        db,
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
         hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
         window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING window_start, hits",
        vec![bucket.into(), now.into(), expired.into()],
    )
    .await?
    .ok_or_else(|| AppError::internal(anyhow::anyhow!("rate limit upsert returned no row")))?;
    Ok((row.try_get("", "window_start")?, row.try_get("", "hits")?))
}

/// Counts one hit in `bucket`, or refuses it (with the seconds until the
/// next hit would pass) when the rule's maximum is reached.
///
/// A leaky bucket, not a fixed window: the bucket holds `max` and drains
/// continuously at `max` per `window_secs`, so a burst passes at most `max`
/// hits, then one per `window_secs / max`; a burst at the end of one window
/// cannot be followed by another at the start of the next. The row keeps the level in thousandths of a hit (`hits`) as
/// of its last counted hit (`window_start`). A refused hit is not counted: a
/// client that keeps knocking gets in at the rule's rate, never faster.
pub async fn hit(svc: &Services, bucket: &str, rule: Rule) -> AppResult<()> {
    if rule.max == 0 {
        return Ok(());
    }
    let now = Utc::now().timestamp();
    let (max, window) = (rule.max as i64, rule.window_secs.max(1) as i64);
    let Some(wait) = take(&svc.db, bucket, now, max, window).await? else {
        return Ok(());
    };
    let kind = bucket.split(':').next().unwrap_or("");
    tracing::warn!(event = "rate_limited", kind);
    svc.metrics.rate_limited(kind);
    Err(limited(wait))
}

/// Thousandths of a hit: the level of a leaky bucket.
const MILLI: i64 = 1000;

/// Adds a hit to `bucket` if it fits under `max` once drained for the time
/// since the last one; else the seconds until it would. Each step is one
/// statement (atomic on SQLite and on PostgreSQL, so instances share it).
async fn take(
    db: &impl ConnectionTrait,
    bucket: &str,
    now: i64,
    max: i64,
    window: i64,
) -> AppResult<Option<i64>> {
    let first = execute(
        db,
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, $3) \
         ON CONFLICT (bucket) DO NOTHING",
        vec![bucket.into(), now.into(), MILLI.into()],
    )
    .await?;
    if first == 1 {
        return Ok(None);
    }
    // The level left after draining, never below zero.
    let drained = "(CASE WHEN hits - ($2 - window_start) * $4 / $5 < 0 THEN 0 \
                   ELSE hits - ($2 - window_start) * $4 / $5 END)";
    let taken = execute(
        db,
        &format!(
            "UPDATE rate_limits SET hits = {drained} + $3, window_start = $2 \
             WHERE bucket = $1 AND {drained} + $3 <= $4"
        ),
        vec![
            bucket.into(),
            now.into(),
            MILLI.into(),
            (max * MILLI).into(),
            window.into(),
        ],
    )
    .await?;
    if taken == 1 {
        return Ok(None);
    }
    wait(db, bucket, now, max, window).await.map(Some)
}

/// Seconds until a hit fits in a full `bucket`.
async fn wait(
    db: &impl ConnectionTrait,
    bucket: &str,
    now: i64,
    max: i64,
    window: i64,
) -> AppResult<i64> {
    let sql = "SELECT window_start, hits FROM rate_limits WHERE bucket = $1";
    // Purged meanwhile: the bucket is empty.
    let Some(row) = query_one(db, sql, vec![bucket.into()]).await? else {
        return Ok(1);
    };
    let (last, level): (i64, i64) = (row.try_get("", "window_start")?, row.try_get("", "hits")?);
    // Seconds from the last hit until a hit fits, less those gone by.
    let (excess, per) = (level - (max - 1) * MILLI, max * MILLI);
    Ok((excess * window + per - 1) / per - (now - last))
}

/// Counts a hit of `kind` against an account (every instance shares it).
pub async fn per_account(svc: &Services, kind: &str, user_id: &str, rule: Rule) -> AppResult<()> {
    let bucket = format!("{kind}:acct:{}", identity_bucket("account", user_id));
    hit(svc, &bucket, rule).await
}

/// Refuses when `bucket` already holds the rule's maximum in its window
/// (counts nothing); otherwise tells whether the bucket holds any hit.
async fn check(svc: &Services, bucket: &str, rule: Rule) -> AppResult<bool> {
    let now = Utc::now().timestamp();
    let Some(row) = query_one(
        &svc.db,
        "SELECT window_start, hits FROM rate_limits WHERE bucket = $1",
        vec![bucket.into()],
    )
    .await?
    else {
        return Ok(false);
    };
    let start: i64 = row.try_get("", "window_start")?;
    let hits: i64 = row.try_get("", "hits")?;
    let ends = start + rule.window_secs as i64;
    if ends > now && hits as u64 >= rule.max {
        tracing::warn!(event = "account_locked");
        svc.metrics.rate_limited("lockout");
        return Err(limited(ends - now));
    }
    Ok(ends > now && hits > 0)
}

/// Empties a bucket.
async fn clear(db: &impl ConnectionTrait, bucket: &str) -> AppResult<()> {
    delete_where(db, "rate_limits", "bucket", bucket).await?;
    Ok(())
}

/// Drops buckets whose window ended more than `older_than_secs` ago.
pub async fn purge(db: &impl ConnectionTrait, older_than_secs: u64) -> AppResult<u64> {
    let before = Utc::now().timestamp() - older_than_secs as i64;
    execute(
        db,
        "DELETE FROM rate_limits WHERE window_start < $1",
        vec![before.into()],
    )
    .await
}

/// The rate limits around one log-in attempt, which count its outcome.
pub struct LoginGuard {
    lock: String,
    had_failures: bool,
    method: AuthMethod,
}

impl LoginGuard {
    /// Counts the attempt against the client's address, then refuses it when
    /// `identifier` is locked. `scope` separates collections (and superusers).
    pub async fn enter(
        svc: &Services,
        method: AuthMethod,
        scope: &str,
        identifier: &str,
        client: &ClientInfo,
    ) -> AppResult<LoginGuard> {
        let limits = &svc.limits;
        if let Some(bucket) = client.ip.as_deref().and_then(|ip| ip_bucket("login", ip)) {
            hit(svc, &bucket, limits.login_per_ip)
                .await
                .inspect_err(|_| svc.metrics.auth(method, AuthOutcome::Limited))?;
        }
        let lock = identity_bucket(scope, identifier);
        let had_failures = if limits.lockout.max == 0 {
            false
        } else {
            check(svc, &lock, limits.lockout)
                .await
                .inspect_err(|_| svc.metrics.auth(method, AuthOutcome::Locked))?
        };
        Ok(LoginGuard {
            lock,
            had_failures,
            method,
        })
    }

    /// A wrong password (or unknown identifier): one more failure.
    pub async fn failed(self, svc: &Services) -> AppResult<()> {
        svc.metrics.auth(self.method, AuthOutcome::Failure);
        if svc.limits.lockout.max > 0 {
            count(&svc.db, &self.lock, svc.limits.lockout.window_secs).await?;
        }
        Ok(())
    }

    /// A correct password: earlier failures are forgotten.
    pub async fn succeeded(self, svc: &Services) -> AppResult<()> {
        svc.metrics.auth(self.method, AuthOutcome::Success);
        if self.had_failures {
            clear(&svc.db, &self.lock).await?;
        }
        Ok(())
    }
}

/// Lifts the lock of an identifier (a password set by an administrator).
pub async fn unlock(svc: &Services, scope: &str, identifier: &str) -> AppResult<()> {
    clear(&svc.db, &identity_bucket(scope, identifier)).await
}

/// Counts an OAuth2 step (a start, a finish, a verified ID token or code,
/// an exchange) against the client's address: the log-in limit's number,
/// in a bucket of its own.
pub async fn oauth(svc: &Services, client: &ClientInfo) -> AppResult<()> {
    per_ip(svc, "oauth", client, svc.limits.login_per_ip).await
}

/// Counts a sign-up against the client's address.
pub async fn sign_up(svc: &Services, client: &ClientInfo) -> AppResult<()> {
    per_ip(svc, "signup", client, svc.limits.signup_per_ip).await
}

/// Counts a refresh-token exchange against the client's address (the
/// account's count is in `sessions::rotate`, once the token names it).
pub async fn refresh(svc: &Services, client: &ClientInfo) -> AppResult<()> {
    per_ip(svc, "refresh", client, svc.limits.refresh_per_ip).await
}

/// Counts a password change that checks the current password against the
/// client's address and the account.
pub async fn password_change(svc: &Services, client: &ClientInfo, user_id: &str) -> AppResult<()> {
    let limits = &svc.limits;
    per_ip(svc, "password", client, limits.password_change_per_ip).await?;
    per_account(svc, "password", user_id, limits.password_change_per_account).await
}

/// Counts a second-factor or one-time-code verification against the
/// client's address and `account` (a user id, or for a code id that names
/// no account that id, so the two answer alike).
pub async fn second_factor(svc: &Services, client: &ClientInfo, account: &str) -> AppResult<()> {
    let limits = &svc.limits;
    per_ip(svc, "mfa", client, limits.mfa_per_ip).await?;
    per_account(svc, "mfa", account, limits.mfa_per_account).await
}

/// Counts a hit of `kind` against the client's address.
pub async fn per_ip(svc: &Services, kind: &str, client: &ClientInfo, rule: Rule) -> AppResult<()> {
    match client.ip.as_deref().and_then(|ip| ip_bucket(kind, ip)) {
        Some(bucket) => hit(svc, &bucket, rule).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_of_one_prefix_share_a_bucket() {
        let a = ip_bucket("login", "2001:db8:1:2:aaaa::1").unwrap();
        let b = ip_bucket("login", "2001:db8:1:2:bbbb::9").unwrap();
        let c = ip_bucket("login", "2001:db8:1:3::1").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            ip_bucket("login", "::ffff:10.0.0.1").unwrap(),
            ip_bucket("login", "10.0.0.1").unwrap()
        );
        assert_eq!(ip_bucket("login", "not an ip"), None);
    }

    #[test]
    fn identity_buckets_ignore_case_and_hide_the_email() {
        let a = identity_bucket("c1", "Ann@Example.com ");
        assert_eq!(a, identity_bucket("c1", "ann@example.com"));
        assert_ne!(a, identity_bucket("c2", "ann@example.com"));
        assert!(!a.contains("example"));
    }
}
