//! The domain: every front door (GraphQL, each REST dialect, the CLI) calls these
//! services with typed requests and gets typed results or an `AppError`.
//! Every product rule lives here: who may see whom (`access`), the public
//! view of a profile (`profile`), what a change does (`users`).
pub mod access;
pub mod apply;
pub mod audit;
pub mod auth_cache;
pub mod catalog;
pub mod client;
pub mod collections;
pub mod cors;
pub mod email_codes;
pub mod events;
pub mod export;
pub mod files;
pub mod filter;
pub mod import;
pub mod limits;
pub mod notices;
pub mod oauth;
pub mod outbox;
pub mod passkeys;
pub mod passwords;
pub mod profile;
pub mod projects;
pub mod second_factor;
pub mod services;
pub mod sessions;
pub mod signing_keys;
pub mod superusers;
pub mod users;

pub use services::Services;
