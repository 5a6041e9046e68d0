//! What the Cocobase handlers' `#[utoipa::path]` attributes share: the tag and
//! the error body.
crate::rest::apidoc::dialect_doc!(
    "Cocobase",
    "`{\"detail\": string | [{loc, msg, type}]}`",
    422
);
