//! Pieces for the handlers' `#[utoipa::path]` attributes, shared by the
//! dialects: a documented set of error statuses, each answered with the
//! dialect's error body. Each dialect's `doc.rs` names its shape and its tag.
use std::collections::BTreeMap;
use std::marker::PhantomData;

use utoipa::IntoResponses;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, RefOr};

/// A dialect's error body, in words, and the status it answers a request
/// body that does not parse with.
pub trait ErrorShape {
    const DESCRIPTION: &'static str;
    const BAD_BODY: u16;
}

/// The error statuses `A` to `E` of an operation (0 stands for none), each a
/// JSON object described by the dialect's [`ErrorShape`]. A dialect aliases it
/// (`super::doc::Errors<401, 422>`) for `responses(…)`.
pub struct Errors<
    S,
    const A: u16,
    const B: u16 = 0,
    const C: u16 = 0,
    const D: u16 = 0,
    const E: u16 = 0,
>(PhantomData<S>);

impl<S: ErrorShape, const A: u16, const B: u16, const C: u16, const D: u16, const E: u16>
    IntoResponses for Errors<S, A, B, C, D, E>
{
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [A, B, C, D, E]
            .into_iter()
            .filter(|status| *status != 0)
            .map(|status| (status.to_string(), json_response(S::DESCRIPTION).into()))
            .collect()
    }
}

/// A `200` answering `{message}`, then the errors `E` (`Message<Errors<400, 401>>`).
pub struct Message<E>(PhantomData<E>);

impl<E: IntoResponses> IntoResponses for Message<E> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = E::responses();
        all.insert("200".to_owned(), json_response("`{message}`").into());
        all
    }
}

/// A response whose body is a JSON object.
pub(crate) fn json_response(description: &str) -> Response {
    let object = ObjectBuilder::new().schema_type(Type::Object).build();
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(object)).build(),
        )
        .build()
}

/// A dialect's `doc` module: its tag, its error body in words, its
/// `Errors<…>` alias and `Message` for `responses(…)`.
macro_rules! dialect_doc {
    ($tag:literal, $shape:literal, $bad_body:literal) => {
        /// The document's tag for this dialect's operations.
        pub const TAG: &str = $tag;

        /// This dialect's error body.
        pub struct Shape;

        impl $crate::rest::apidoc::ErrorShape for Shape {
            const DESCRIPTION: &'static str = $shape;
            const BAD_BODY: u16 = $bad_body;
        }

/// Error statuses with this dialect's body, e.g. `Errors<401, 422>`.
        #[rustfmt::skip]
        pub type Errors<const A: u16, const B: u16 = 0, const C: u16 = 0, const D: u16 = 0,
            const E: u16 = 0> = $crate::rest::apidoc::Errors<Shape, A, B, C, D, E>;

        pub use $crate::rest::apidoc::Message;
    };
}
pub(crate) use dialect_doc;
