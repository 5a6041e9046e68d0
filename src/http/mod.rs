//! What every HTTP front door shares, below the doors: the state handlers
//! receive, the extractors that read credentials, tenant and body, and the
//! rendering of errors in a door's own shape.
pub mod account;
pub mod assets;
pub mod body;
pub mod cors;
pub mod dialect;
pub mod download;
pub mod extract;
pub mod form;
pub mod headers;
pub mod metrics;
pub mod proxies;
pub mod query;
pub mod rejection;
pub mod shutdown;
pub mod state;
pub mod tenant;
