//! Files of profile fields: the rules of a field (size, types, how many,
//! protected), the type from the bytes, uploads streamed to storage under
//! random keys, the rows that tie them to a profile, and reading them back.
//!
//! Files of this folder import each other by path (`super::rules::FileRules`).
pub mod bounds;
pub mod changes;
pub mod flow;
pub mod listing;
pub mod record;
pub mod rules;
pub mod serve;
pub mod sniff;
pub mod staging;
pub mod thumbnail;
pub mod thumbs;
pub mod urls;

pub use flow::{create, sign_up, update};
pub use rules::FileRules;
pub use serve::{FoundFile, file_token, find};
pub use staging::{NewFile, Staging};
