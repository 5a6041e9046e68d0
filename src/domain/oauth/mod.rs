//! OAuth2 / OpenID Connect sign-in: which providers a collection offers
//! (`config`), the flow from the redirect to the callback (`flow`), and who
//! signs in as whom (`identities`). Every sign-in ends, like any first
//! factor, in `second_factor::challenge::after_first_factor`.
//!
//! Files of this folder import each other by path, never through this module.
pub mod callback;
pub mod config;
pub mod direct;
pub mod flow;
pub mod identities;
pub mod linking;
pub mod social;
