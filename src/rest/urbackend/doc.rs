//! What the urBackend handlers' `#[utoipa::path]` attributes share: the tag
//! and the error body.
use crate::rest::apidoc::{self, ErrorShape};

/// The document's tag for urBackend's operations.
pub const TAG: &str = "urBackend";

/// `{success: false, error, code}`.
pub struct Shape;

impl ErrorShape for Shape {
    const DESCRIPTION: &'static str = "`{success: false, error, code}`";
}

/// Error statuses with urBackend's body: `Errors<400, 401>`.
pub type Errors<
    const A: u16,
    const B: u16 = 0,
    const C: u16 = 0,
    const D: u16 = 0,
    const E: u16 = 0,
> = apidoc::Errors<Shape, A, B, C, D, E>;
