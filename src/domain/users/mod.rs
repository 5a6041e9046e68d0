//! Users of auth collections: sign-up, log-in, profile, password.
//!
//! Files of this folder import each other by path (`super::model::User`),
//! never through this module, whose re-exports are for the doors.
pub mod account;
mod change;
pub mod create;
pub mod issue;
pub mod log_in;
pub mod model;
pub mod paging;
pub mod query;
pub mod relations;

pub use account::{
    AccountUpdate, CurrentPassword, NewPassword, change_email, change_password, delete,
    mark_verified, reset_password, set_disabled, update_account, update_profile, verify_password,
};
pub use create::{create, sign_up};
pub use log_in::{log_in, log_in_proven, log_out, refresh, reissue};
pub use model::{
    AuthResult, ChangePasswordRequest, LogInRequest, MAX_PAGE_SIZE, SignInContext, SignUpRequest,
    TokenLifetime, UpdateProfileRequest, User, UserPage, UserQuery, normalize_email,
};
pub use query::{
    count_plan, count_query, find_by_email, find_by_field, get, get_many, plan, query,
};
pub use relations::{
    fields_of as relation_fields, is_many as relation_is_many, load as load_related, relation_ids,
};
