//! PocketBase's error shape: `{status, message, data: {field: {code, message}}}`.
use serde_json::{Value, json};

use crate::error::AppError;

fn field_error(field: &str, code: &str, message: &str) -> Value {
    json!({ field: {"code": code, "message": message} })
}

/// PocketBase's field code for a wrong value of `field`.
fn validation_code(field: &str) -> &'static str {
    match field {
        "passwordConfirm" => "validation_values_mismatch",
        "oldPassword" => "validation_invalid_old_password",
        _ => "validation_invalid_value",
    }
}

/// Status and body of an error.
pub fn render(e: &AppError) -> (u16, Value) {
    let (status, message, data) = match e {
        AppError::InvalidCredentials => (400, "Failed to authenticate.".to_owned(), json!({})),
        AppError::EmailExists => (
            400,
            "Failed to create record.".to_owned(),
            field_error("email", "validation_not_unique", "Value must be unique."),
        ),
        AppError::Conflict(f) => (
            400,
            "Failed to save record.".to_owned(),
            field_error(f, "validation_not_unique", "Value must be unique."),
        ),
        AppError::InvalidEmail => (
            400,
            "Failed to save record.".to_owned(),
            field_error(
                "email",
                "validation_is_email",
                "Must be a valid email address.",
            ),
        ),
        AppError::WeakPassword(m) => (
            400,
            "Failed to save record.".to_owned(),
            field_error("password", "validation_length_out_of_range", m),
        ),
        AppError::Validation {
            field,
            message,
            required,
        } => {
            let data = match field {
                Some(f) if *required => field_error(f, "validation_required", message),
                Some(f) => field_error(f, validation_code(f), message),
                None => json!({}),
            };
            (400, message.clone(), data)
        }
        AppError::Unauthenticated | AppError::InvalidToken => (
            401,
            "The request requires valid record authorization token.".to_owned(),
            json!({}),
        ),
        AppError::NotFound(_) => (
            404,
            "The requested resource wasn't found.".to_owned(),
            json!({}),
        ),
        AppError::RateLimited { .. } => (429, "Too Many Requests.".to_owned(), json!({})),
        other => (other.status(), other.public_message(), json!({})),
    };
    (
        status,
        json!({"status": status, "message": message, "data": data}),
    )
}
