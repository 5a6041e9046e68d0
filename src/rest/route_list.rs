//! A dialect's routes as one list of handlers.

/// An `OpenApiRouter` with a route per group of handlers: `a::one; b::get, b::post;`.
/// The handlers of a group share a path (one per method); each is documented
/// by its `#[utoipa::path]`.
macro_rules! api_routes {
    ($($($handler:path),+);+ $(;)?) => {
        ::utoipa_axum::router::OpenApiRouter::new()
            $(.routes(::utoipa_axum::routes!($($handler),+)))+
    };
}

pub(crate) use api_routes;
