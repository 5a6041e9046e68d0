//! OAuth2 / OpenID Connect sign-in: which providers a collection offers
//! (`config`), the flow from the redirect to the callback (`flow`), and who
//! signs in as whom (`identities`); what a provider's redirect to one of
//! the server's own URLs brings (`callback`), explicit linking (`linking`),
//! sign-ins the client began at the provider (`direct`), and the
//! server-callback flow that ends in the app with a one-time code (`social`,
//! urBackend). Every sign-in ends, like any first factor, in
//! `second_factor::challenge::after_first_factor`.
//!
//! Files of this folder import each other by path, never through this module.
pub mod callback;
pub mod config;
pub mod direct;
pub mod flow;
pub mod identities;
pub mod linking;
pub mod social;
