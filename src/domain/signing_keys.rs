//! The asymmetric keys that sign access tokens: created at first start,
//! rotated by command (`authgraph keys rotate`), shared by every instance on
//! one database (they live in `server_settings`, private halves sealed).
use std::time::Duration;

use chrono::Utc;
use sea_orm::EntityTrait;

use super::collections::Collection;
use super::services::Services;
use crate::auth::signing::{self, KeyRing, StoredKey};
use crate::domain::audit::{self, Kind};
use crate::error::{AppError, AppResult};
use crate::store::raw;

const SETTING: &str = "signing_keys";
/// Seconds past a token's `exp` that it is still accepted (the validator's leeway), with margin.
const EXPIRY_MARGIN_SECS: i64 = 60;

async fn stored(svc: &Services) -> AppResult<Vec<StoredKey>> {
    let row = raw::query_one(
        &svc.db,
        "SELECT value FROM server_settings WHERE key = $1",
        vec![SETTING.into()],
    )
    .await?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let text: String = row.try_get("", "value")?;
    serde_json::from_str(&text).map_err(AppError::internal)
}

fn install(svc: &Services, keys: &[StoredKey]) -> AppResult<()> {
    let ring =
        KeyRing::open(keys, &svc.seal, Utc::now().timestamp()).map_err(AppError::internal)?;
    svc.tokens.install(ring);
    Ok(())
}

/// Reads the keys (creating the first one when there is none; the first
/// instance to store it wins) and makes the newest one sign.
pub async fn load(svc: &Services) -> anyhow::Result<()> {
    if svc.tokens.configured_kid().is_some() {
        // The configured key signs; keys stored earlier still verify.
        return reload(svc)
            .await
            .map_err(|e| anyhow::anyhow!("reading the signing keys: {e:?}"));
    }
    let first = vec![StoredKey::generate(&svc.seal, Utc::now().timestamp())?];
    raw::execute(
        &svc.db,
        "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        vec![SETTING.into(), serde_json::to_string(&first)?.into()],
    )
    .await
    .map_err(|e| anyhow::anyhow!("storing the signing key: {e:?}"))?;
    reload(svc)
        .await
        .map_err(|e| anyhow::anyhow!("reading the signing keys: {e:?}"))
}

/// Re-reads the keys, so a rotation by another process is seen.
pub async fn reload(svc: &Services) -> AppResult<()> {
    install(svc, &stored(svc).await?)
}

/// Re-reads the keys every `period` (a rotation by command reaches running servers).
pub fn spawn_reloader(svc: Services, period: Duration) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            every.tick().await;
            if let Err(e) = reload(&svc).await {
                tracing::warn!(error = ?e, "could not re-read the signing keys");
            }
        }
    });
}

/// The longest an access token of any collection lives.
async fn longest_token_ttl(svc: &Services) -> AppResult<i64> {
    let mut longest = 0;
    for model in entity::collection::Entity::find().all(&svc.db).await? {
        let settings = Collection::from_model(model)?.settings;
        longest = longest
            .max(settings.access_token_ttl_secs)
            .max(settings.long_lived_access_token_ttl_secs);
    }
    Ok(longest)
}

/// A new signing key; the previous one keeps verifying (and stays in the
/// JWKS) until the last token it signed has expired. Returns the new `kid`.
///
/// With a configured key (`AUTHGRAPH_SIGNING_KEY_FILE`) nothing new is
/// generated: the stored keys are retired (published until their last token
/// expires) and the configured key's `kid` is returned. The configured keys
/// themselves are rotated in their file.
pub async fn rotate(svc: &Services) -> AppResult<String> {
    let mut keys = stored(svc).await?;
    let max_ttl = longest_token_ttl(svc).await? + EXPIRY_MARGIN_SECS;
    let now = Utc::now().timestamp();
    let kid = match svc.tokens.configured_kid() {
        Some(kid) => {
            signing::retire(&mut keys, now, max_ttl);
            kid.to_owned()
        }
        None => signing::rotate(&mut keys, &svc.seal, now, max_ttl).map_err(AppError::internal)?,
    };
    let text = serde_json::to_string(&keys).map_err(AppError::internal)?;
    raw::execute(
        &svc.db,
        "UPDATE server_settings SET value = $1 WHERE key = $2",
        vec![text.into(), SETTING.into()],
    )
    .await?;
    install(svc, &keys)?;
    audit::server(Kind::SigningKeyRotated)
        .with("kid", kid.as_str())
        .save(svc)
        .await?;
    Ok(kid)
}
