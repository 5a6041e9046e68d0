//! urBackend's error shape: `{success: false, error, code}`.
use serde_json::{Value, json};

use crate::error::AppError;

/// Status and body of an error.
pub fn render(e: &AppError) -> (u16, Value) {
    let (status, message) = match e {
        // urBackend answers a wrong password with 400, like other bad input.
        AppError::InvalidCredentials => (400, "Invalid email or password".to_owned()),
        AppError::EmailExists => (400, "User already exists".to_owned()),
        AppError::Unauthenticated => (401, "Authentication required".to_owned()),
        AppError::InvalidToken => (401, "Invalid or expired token".to_owned()),
        AppError::NotFound("user") => (404, "User not found".to_owned()),
        other => (other.status(), other.public_message()),
    };
    (
        status,
        json!({"success": false, "error": message, "code": status}),
    )
}

/// A log-in whose second factor is due: 401 in urBackend's shape, with the
/// stable `errorCode` `SECOND_FACTOR_REQUIRED` and the challenge to answer
/// with GraphQL's `verifySecondFactor`.
pub fn second_factor_required(c: &crate::domain::second_factor::Challenge) -> (u16, Value) {
    let methods: Vec<&str> = c.methods.iter().map(|m| m.key()).collect();
    (
        401,
        json!({
            "success": false,
            "error": "A second factor is required",
            "code": 401,
            "errorCode": "SECOND_FACTOR_REQUIRED",
            "challengeId": c.id,
            "methods": methods,
            "expiresAt": c.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
    )
}
