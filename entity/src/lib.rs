//! SeaORM entities: storage only. API types live in the `authgraph` crate and
//! never expose these rows directly.
#![forbid(unsafe_code)]

pub mod collection;
pub mod file;
pub mod project;
pub mod session;
pub mod superuser;
pub mod user;
