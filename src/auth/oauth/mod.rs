//! The HTTP side of OAuth2 / OpenID Connect sign-in: one file per provider
//! (`oidc.rs` for any OpenID provider, Google included; `apple.rs` on top of
//! it; `github.rs`),
//! behind the [`provider::Provider`] trait. The rules (who signs in as whom)
//! live in `crate::domain::oauth`.
//!
//! Files of this folder import each other by path, never through this module.
pub mod any;
pub mod apple;
pub mod github;
pub mod http;
pub mod oidc;
pub mod pkce;
pub mod provider;
pub mod types;
