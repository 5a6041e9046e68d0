//! What the urBackend handlers' `#[utoipa::path]` attributes share: the tag and
//! the error body.
crate::rest::apidoc::dialect_doc!("urBackend", "`{success: false, error, code}`", 400);
