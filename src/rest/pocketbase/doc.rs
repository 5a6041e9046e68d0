//! What the PocketBase handlers' `#[utoipa::path]` attributes share: the tag and
//! the error body.
crate::rest::apidoc::dialect_doc!(
    "PocketBase",
    "`{status, message, data: {field: {code, message}}}`",
    400
);
