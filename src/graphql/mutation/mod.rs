//! Mutations, one part per area, merged into the schema's `Mutation`. The parts
//! are declared here, their resolvers in their files.
//!
//! Arguments and input fields that carry a password, a mailed code or a token
//! are `#[graphql(secret)]`: whatever prints a request (an extension's
//! `stringify_execute_doc`, async-graphql's `Logger`) shows them masked.
mod account;
mod admin;
mod auth;
mod call;
mod email;
mod files;
mod oauth;
mod passkey;
mod second_factor;

use async_graphql::MergedObject;

// No doc comment on `Mutation`: it would become the type's description. Its
// fields are the parts' in this order, each part's in its own order.
#[derive(MergedObject, Default)]
pub struct Mutation(
    EmailMutation,
    AuthMutation,
    OAuthMutation,
    SecondFactorMutation,
    PasskeyMutation,
    AccountMutation,
    AdminMutation,
);

/// Mailed codes and tokens: password resets, sign-in codes, email verification (`email.rs`).
#[derive(Default)]
pub struct EmailMutation;

/// Signing up, logging in and out, and the caller's own sessions (`auth.rs`).
#[derive(Default)]
pub struct AuthMutation;

/// Signing in with an OAuth2 / OpenID Connect provider (`oauth.rs`).
#[derive(Default)]
pub struct OAuthMutation;

/// Second factors: answering a log-in's challenge, enrolling an
/// authenticator app, recovery codes (`second_factor.rs`).
#[derive(Default)]
pub struct SecondFactorMutation;

/// Passkeys (WebAuthn): registering, signing in, managing (`passkey.rs`).
#[derive(Default)]
pub struct PasskeyMutation;

/// The caller's own account: profile, email address and password (`account.rs`).
#[derive(Default)]
pub struct AccountMutation;

/// Administration of a project's users, secret key only (`admin.rs`).
#[derive(Default)]
pub struct AdminMutation;
