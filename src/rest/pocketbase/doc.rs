//! What the PocketBase handlers' `#[utoipa::path]` attributes share: the tag
//! and the error body.
use crate::rest::apidoc::{self, ErrorShape};

/// The document's tag for PocketBase's operations.
pub const TAG: &str = "PocketBase";

/// `{status, message, data}`.
pub struct Shape;

impl ErrorShape for Shape {
    const DESCRIPTION: &'static str = "`{status, message, data: {field: {code, message}}}`";
}

/// Error statuses with PocketBase's body: `Errors<400, 404>`.
pub type Errors<
    const A: u16,
    const B: u16 = 0,
    const C: u16 = 0,
    const D: u16 = 0,
    const E: u16 = 0,
> = apidoc::Errors<Shape, A, B, C, D, E>;
