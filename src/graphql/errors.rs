//! `AppError` as a GraphQL error with `extensions.code` (and `field`).
use async_graphql::{Error, ErrorExtensions};

use crate::error::AppError;

impl ErrorExtensions for AppError {
    fn extend(&self) -> Error {
        if let AppError::Internal(source) | AppError::Unavailable(source) = self {
            // Logged here, never sent: the client sees only the code.
            tracing::error!(error = ?source, "internal error in a GraphQL resolver");
        }
        Error::new(self.public_message()).extend_with(|_, e| {
            e.set("code", self.code());
            if let Some(field) = self.field() {
                e.set("field", field);
            }
            if let Some(secs) = self.retry_after() {
                e.set("retryAfter", secs);
            }
        })
    }
}

/// Shorthand: a domain result as a GraphQL result.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}
