//! What the Cocobase handlers' `#[utoipa::path]` attributes share: the tag and
//! the error body.
use crate::rest::apidoc::{self, ErrorShape};

/// The document's tag for Cocobase's operations.
pub const TAG: &str = "Cocobase";

/// FastAPI's `{"detail": …}`.
pub struct Shape;

impl ErrorShape for Shape {
    const DESCRIPTION: &'static str = "`{\"detail\": string | [{loc, msg, type}]}`";
}

/// Error statuses with Cocobase's body: `Errors<401, 422>`.
pub type Errors<
    const A: u16,
    const B: u16 = 0,
    const C: u16 = 0,
    const D: u16 = 0,
    const E: u16 = 0,
> = apidoc::Errors<Shape, A, B, C, D, E>;
