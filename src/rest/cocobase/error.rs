//! Cocobase's error shape: FastAPI's `{"detail": string | [{loc, msg, type}]}`.
use serde_json::{Value, json};

use crate::error::AppError;

/// Status and body of an error.
pub fn render(e: &AppError) -> (u16, Value) {
    let (status, detail) = match e {
        AppError::EmailExists => (400, json!("Email already registered")),
        AppError::InvalidCredentials => (401, json!("Invalid email or password")),
        AppError::Unauthenticated => (401, json!("Not authenticated")),
        AppError::InvalidToken => (401, json!("Invalid token or token expired")),
        AppError::AccountDisabled => (403, json!("This account is disabled")),
        AppError::NotFound("user") => (404, json!("User not found")),
        AppError::InvalidEmail | AppError::WeakPassword(_) | AppError::Validation { .. } => {
            let loc = e.field().unwrap_or("body").to_owned();
            (
                422,
                json!([{"loc": ["body", loc], "msg": e.public_message(), "type": e.code().to_lowercase()}]),
            )
        }
        AppError::Conflict(_) => (400, json!(e.public_message())),
        other => (other.status(), json!(other.public_message())),
    };
    (status, json!({ "detail": detail }))
}
