//! Codes by mail as a second factor (Cocobase's two-factor log-in): the
//! same codes, hashing, attempts and expiry as every mailed code.
use chrono::Utc;

use super::purpose::*;
use crate::domain::services::Services;
use crate::error::AppResult;
use crate::store::codes::{self, Key};

/// Checks and spends the mailed second-factor code of a user (a wrong one is
/// counted, like every six-digit code); false when it does not match.
pub async fn second_factor_code(svc: &Services, user_id: &str, code: &str) -> AppResult<bool> {
    let purpose = Purpose::SecondFactor;
    enabled(svc, purpose)?;
    let now = Utc::now().timestamp();
    let Some(live) = codes::live(&svc.db, Key::User(user_id), purpose.key(), now).await? else {
        return Ok(false);
    };
    if !guess(svc, &live, code).await? {
        return Ok(false);
    }
    codes::take(&svc.db, &live.id).await
}
