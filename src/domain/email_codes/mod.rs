//! Codes sent by email: password reset and email verification (security
//! checklist items 7 and 8).
//!
//! A request mails the account a long token (for a link) and a six-digit code
//! (to type); both are single-use, expire after `Purpose::ttl_secs` (30 minutes;
//! 5 for a second factor, the life of its challenge), and are
//! stored only as keyed hashes (`auth::codes`). A newer request replaces the
//! older code of the same purpose; a code guessed wrong `MAX_CODE_ATTEMPTS`
//! times is dropped; an account gets at most `mail_code_per_account` mails of a
//! purpose per window (`AUTHGRAPH_MAIL_CODE_LIMIT_PER_ACCOUNT`). The answer to a request is the same whether or not the email has an
//! account, and the code is stored and enqueued in the background (the
//! outbox delivers it), so the timing does not tell either.
//!
//! Using a reset code sets the password, ends every session, lifts a lockout
//! and marks the email verified; using a verification code marks it verified.
pub mod factor;
pub mod issue;
pub mod purpose;
pub mod redeem;

pub use factor::second_factor_code;
pub use issue::{issue_later, request, request_email_change, send_code};
pub use purpose::{CODE_TTL_SECS, MAX_CODE_ATTEMPTS, Proof, Purpose, enabled};
pub use redeem::{Confirmation, confirm, log_in_with_code};
