//! Credentials: password hashing, API keys and signed tokens.
pub mod codes;
pub mod derived;
pub mod keys;
pub mod legacy;
pub mod oauth;
pub mod password;
pub mod refresh;
pub mod seal;
pub mod signing;
pub mod tokens;
pub mod totp;
