//! Passkeys (WebAuthn, security checklist item 27's strongest factor):
//! registration and sign-in ceremonies verified by `webauthn-rs-core`, a
//! user's named passkeys, and the relying parties this server answers for.
//!
//! A ceremony's challenge is single use, lives [`CEREMONY_TTL_SECS`], belongs
//! to one project and is stored only as a keyed hash; the browser's answer
//! names it through its signed client data. Attestation is `none`, user
//! verification preferred; a passkey used with user verification is both
//! factors, else one (the log-in's second-factor rules apply).
//!
//! Files of this folder import each other by path, never through this module.
pub mod ceremony;
pub mod manage;
pub mod register;
pub mod relying_party;
pub mod sign_in;

pub use manage::{Passkey, delete, list, rename};
pub use register::{RegistrationRequest, finish_registration, registration_options};
pub use relying_party::{CEREMONY_TTL_SECS, RelyingParties, RpSettings};
pub use sign_in::{LoginOptionsRequest, finish_login, login_options};
