//! The GraphQL front door: resolvers authenticate, convert and call `domain`.
mod audit_types;
mod errors;
mod factor_types;
mod file_types;
pub mod filter;
pub mod http;
pub mod loaders;
mod mutation;
mod oauth_types;
mod passkey_types;
mod query;
pub mod schema;
pub mod shared;
mod subscription;
mod types;
pub mod ws;

pub use schema::{AppSchema, build_schema, request_data, sdl};
pub use shared::SharedExecutor;
