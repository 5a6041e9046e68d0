//! Second factors (security checklist item 27): authenticator apps (TOTP),
//! codes by mail (Cocobase's two-factor log-in), recovery codes, and the
//! challenge between a first factor and the tokens.
//!
//! Every log-in of every door ends in [`challenge::after_first_factor`]: a
//! user with a second factor (or in a collection whose policy requires one,
//! or with PocketBase's MFA on) gets a [`challenge::Challenge`] instead of
//! tokens, and tokens only once a method the challenge lists answers it.
//! A challenge lives a few minutes, belongs to one user of one project,
//! takes `MAX_CHALLENGE_ATTEMPTS` wrong codes and counts them against the
//! account's lockout too.
//!
//! Files of this folder import each other by path, never through this module.
pub mod challenge;
pub mod factors;

pub use challenge::{
    Challenge, LogInOutcome, Method, SecondProof, after_first_factor, confirm_enrolment,
    enrol_in_challenge, resend_email_code, verify, verify_by_email,
};
pub use factors::{
    FactorScope, Factors, Reauth, TotpEnrolment, confirm_totp, disable, enable_email, enroll_totp,
    regenerate_recovery_codes, reset, summary,
};
