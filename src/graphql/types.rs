//! GraphQL object and input types, converted from and to domain types.
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ErrorExtensions, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::loaders::{CollectionLoader, ReverseKey, ReverseLoader, UserLoader};
use super::passkey_types::PasskeyObject;
use crate::domain::access::{Caller, View};
use crate::domain::profile;
use crate::domain::sessions::Session;
use crate::domain::users::{AuthResult, User, UserQuery};
use crate::error::{AppError, AppResult};

/// A user of an auth collection, as the caller may see it: in full (itself,
/// administrators) or its public view (declared public profile fields only).
pub struct UserObject {
    pub user: User,
    pub full: bool,
}

impl UserObject {
    /// The full view.
    pub fn full(user: User) -> Self {
        Self { user, full: true }
    }
}

fn visible_to(ctx: &Context<'_>, user: User) -> UserObject {
    let caller = ctx.data::<Caller>().ok();
    let full = caller.is_some_and(|c| c.view_of(&user.id) == View::Full);
    UserObject { user, full }
}

fn loader<'a, T: Send + Sync + 'static>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a DataLoader<T>> {
    ctx.data::<DataLoader<T>>()
}

#[Object(name = "User")]
impl UserObject {
    /// URL-safe id.
    async fn id(&self) -> &str {
        &self.user.id
    }
    /// Email address as the user typed it; null in another user's public view.
    async fn email(&self) -> Option<&str> {
        self.full.then_some(self.user.email.as_str())
    }
    /// Linked sign-in providers; null in another user's public view.
    async fn identities(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<super::oauth_types::IdentityObject>>> {
        if !self.full {
            return Ok(None);
        }
        use super::errors::GqlResult;
        let svc = ctx.data::<crate::domain::Services>()?;
        let list = crate::domain::oauth::identities::list(svc, &self.user.id)
            .await
            .gql()?;
        Ok(Some(list.into_iter().map(Into::into).collect()))
    }
    /// Second factors; null in another user's public view.
    async fn second_factors(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<SecondFactors>> {
        if !self.full {
            return Ok(None);
        }
        let svc = ctx.data::<crate::domain::Services>()?;
        match crate::domain::second_factor::summary(svc, &self.user).await {
            Ok(f) => Ok(Some(f.into())),
            Err(e) => Err(e.extend()),
        }
    }
    /// Passkeys; null in another user's public view.
    async fn passkeys(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<PasskeyObject>>> {
        let svc = ctx.data::<crate::domain::Services>()?;
        let list = match self.full {
            true => crate::domain::passkeys::list(svc, &self.user).await,
            false => return Ok(None),
        };
        Ok(Some(
            list.map_err(|e| e.extend())?
                .into_iter()
                .map(Into::into)
                .collect(),
        ))
    }
    /// Free-form profile data (only declared public fields in a public view).
    async fn data(&self, ctx: &Context<'_>) -> async_graphql::Result<Json<Value>> {
        if self.full {
            return Ok(Json(self.user.data.clone()));
        }
        let collection = loader::<CollectionLoader>(ctx)?
            .load_one(self.user.collection_id.clone())
            .await
            .map_err(|e| e.as_ref().extend())?;
        let public = match collection.as_ref() {
            Some(c) => profile::public_view(c, &self.user.data),
            None => Map::new(),
        };
        Ok(Json(Value::Object(public)))
    }
    /// Roles, e.g. `["user"]` (empty in a public view).
    async fn roles(&self) -> Vec<String> {
        if self.full {
            self.user.roles.clone()
        } else {
            vec![]
        }
    }
    /// Whether the email address has been verified.
    async fn verified(&self) -> bool {
        self.user.verified
    }
    /// Whether the account is disabled.
    async fn disabled(&self) -> bool {
        self.user.disabled
    }
    /// Id of the auth collection the user belongs to.
    async fn collection_id(&self) -> &str {
        &self.user.collection_id
    }
    /// Stored files (of one profile field when `field` is given), each with
    /// its URL, size and type; in another user's public view only those of
    /// public fields. Batched per request.
    async fn files(
        &self,
        ctx: &Context<'_>,
        field: Option<String>,
    ) -> async_graphql::Result<Vec<super::file_types::FileObject>> {
        super::file_types::files_of(ctx, &self.user, self.full, field).await
    }
    /// When the user signed up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.user.created_at
    }
    /// When the user last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.user.updated_at
    }
    /// The user a single relation field points to (`referred_by`, or by
    /// convention `referred_by_id`). Batched per request.
    async fn related(
        &self,
        ctx: &Context<'_>,
        field: String,
    ) -> async_graphql::Result<Option<UserObject>> {
        let Some(id) = crate::domain::users::relation_ids(&self.user.data, &field)
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let user = loader::<UserLoader>(ctx)?
            .load_one(id)
            .await
            .map_err(|e| e.as_ref().extend())?;
        Ok(user.map(|u| visible_to(ctx, u)))
    }
    /// The users a many relation field points to (an array of ids). Batched per request.
    async fn related_many(
        &self,
        ctx: &Context<'_>,
        field: String,
    ) -> async_graphql::Result<Vec<UserObject>> {
        let ids = crate::domain::users::relation_ids(&self.user.data, &field);
        let found = loader::<UserLoader>(ctx)?
            .load_many(ids.clone())
            .await
            .map_err(|e| e.as_ref().extend())?;
        Ok(ids
            .into_iter()
            .filter_map(|id| found.get(&id).cloned())
            .map(|u| visible_to(ctx, u))
            .collect())
    }
    /// Users whose relation field `field` points to this user (reverse relation). Batched per request.
    async fn referenced_by(
        &self,
        ctx: &Context<'_>,
        field: String,
    ) -> async_graphql::Result<Vec<UserObject>> {
        let key = ReverseKey {
            field,
            target: self.user.id.clone(),
        };
        let list = loader::<ReverseLoader>(ctx)?
            .load_one(key)
            .await
            .map_err(|e| e.as_ref().extend())?;
        Ok(list
            .unwrap_or_default()
            .into_iter()
            .map(|u| visible_to(ctx, u))
            .collect())
    }
    /// `related(field: "referred_by")`.
    async fn referred_by(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserObject>> {
        self.related(ctx, "referred_by".into()).await
    }
    /// `relatedMany(field: "following")`.
    async fn following(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserObject>> {
        self.related_many(ctx, "following".into()).await
    }
    /// `referencedBy(field: "referred_by")`: the users this user referred.
    async fn referrals(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UserObject>> {
        self.referenced_by(ctx, "referred_by".into()).await
    }
}

/// Tokens of a session and its user.
pub struct AuthPayload(pub AuthResult);

#[Object]
impl AuthPayload {
    /// Access token: send it as `Authorization: Bearer <token>`.
    async fn token(&self) -> &str {
        &self.0.token
    }
    /// Refresh token for `refreshToken`; absent when this call did not rotate it.
    async fn refresh_token(&self) -> Option<&str> {
        self.0.refresh_token.as_deref()
    }
    /// Seconds until the access token expires.
    async fn expires_in(&self) -> i64 {
        self.0.expires_in
    }
    /// The session the tokens belong to.
    async fn session_id(&self) -> &str {
        &self.0.session_id
    }
    /// The authenticated user.
    async fn user(&self) -> UserObject {
        UserObject::full(self.0.user.clone())
    }
}

/// A log-in session.
pub struct SessionObject(pub Session);

#[Object(name = "Session")]
impl SessionObject {
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// When the session was opened (log-in or sign-up).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When its refresh token was last used.
    async fn last_used_at(&self) -> DateTime<Utc> {
        self.0.last_used_at
    }
    /// When its refresh token expires at the latest.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// Peer address at log-in.
    async fn ip(&self) -> Option<&str> {
        self.0.client.ip.as_deref()
    }
    /// User agent at log-in.
    async fn user_agent(&self) -> Option<&str> {
        self.0.client.user_agent.as_deref()
    }
    /// Whether this is the session of the token making the request.
    async fn current(&self, ctx: &Context<'_>) -> bool {
        ctx.data::<crate::domain::access::Caller>()
            .ok()
            .and_then(|c| c.session_id.as_deref())
            == Some(self.0.id.as_str())
    }
}

/// A page of users (a Relay-style connection, with `items` for plain lists).
pub struct UserConnection {
    pub page: crate::domain::users::paging::CursorPage,
    pub project_id: String,
    /// The query, for `totalCount`.
    pub query: UserQuery,
}

/// An edge of a user connection.
#[derive(SimpleObject)]
pub struct UserEdge {
    /// Opaque cursor for `after`.
    pub cursor: String,
    pub node: UserObject,
}

/// Paging state.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl UserConnection {
    fn objects(&self) -> Vec<UserObject> {
        self.page
            .items
            .iter()
            .cloned()
            .map(UserObject::full)
            .collect()
    }
}

#[Object]
impl UserConnection {
    /// The users of this page.
    async fn items(&self) -> Vec<UserObject> {
        self.objects()
    }
    /// The users of this page.
    async fn nodes(&self) -> Vec<UserObject> {
        self.objects()
    }
    /// The users of this page with their cursors.
    async fn edges(&self) -> Vec<UserEdge> {
        self.page
            .items
            .iter()
            .zip(&self.page.cursors)
            .map(|(u, c)| UserEdge {
                cursor: c.clone(),
                node: UserObject::full(u.clone()),
            })
            .collect()
    }
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.page.has_next,
            has_previous_page: self.page.has_previous,
            start_cursor: self.page.cursors.first().cloned(),
            end_cursor: self.page.cursors.last().cloned(),
        }
    }
    /// Number of matching users; counted only when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        use super::errors::GqlResult;
        let svc = ctx.data::<crate::domain::Services>()?;
        crate::domain::users::count_query(&svc.db, &svc.catalog, &self.project_id, &self.query)
            .await
            .gql()
    }
}

/// Input of `signUp`.
#[derive(InputObject)]
pub struct SignUpInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    /// Initial profile data (an object).
    pub data: Option<Json<Value>>,
    /// Auth collection; defaults to `users`.
    pub collection: Option<String>,
    /// Files for the profile's file fields (a multipart request).
    pub files: Option<Vec<super::file_types::FileUpload>>,
}

/// Input of `logIn`.
#[derive(InputObject)]
pub struct LogInInput {
    pub email: String,
    #[graphql(secret)]
    pub password: String,
    /// Auth collection; defaults to `users`.
    pub collection: Option<String>,
}

/// Input of `updateMe`.
#[derive(InputObject)]
pub struct UpdateMeInput {
    /// Keys to set (shallow merge into the profile).
    pub data: Option<Json<Value>>,
    /// `{field: value or [values]}` appended to array fields, atomically.
    pub append: Option<Json<Value>>,
    /// `{field: value or [values]}` removed from array fields, atomically.
    pub remove: Option<Json<Value>>,
    /// Files for file fields (a multipart request): each replaces the field's
    /// file, or joins its files with `append`. `data: {field: null}` clears one.
    pub files: Option<Vec<super::file_types::FileUpload>>,
}

/// Input of `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    #[graphql(secret)]
    pub current_password: String,
    #[graphql(secret)]
    pub new_password: String,
}

/// What proves a mailbox in `resetPassword` and `verifyEmail` (flattened into
/// both): the token from the email, or the email address and the six-digit code.
#[derive(InputObject)]
pub struct MailProofInput {
    #[graphql(secret)]
    pub token: Option<String>,
    pub email: Option<String>,
    #[graphql(secret)]
    pub code: Option<String>,
}

/// Input of `resetPassword`: the token from the email, or the email address
/// and the six-digit code.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    #[graphql(flatten)]
    pub proof: MailProofInput,
    #[graphql(secret)]
    pub new_password: String,
    /// The auth collection (default `users`); used with `email` and `code`.
    pub collection: Option<String>,
}

/// Input of `verifyEmail`: the token from the email, or the email address and
/// the six-digit code.
#[derive(InputObject)]
pub struct VerifyEmailInput {
    #[graphql(flatten)]
    pub proof: MailProofInput,
    /// The auth collection (default `users`); used with `email` and `code`.
    pub collection: Option<String>,
}

/// A JSON argument that must be an object.
pub fn object_arg(field: &str, value: Option<Json<Value>>) -> AppResult<Map<String, Value>> {
    match value.map(|j| j.0) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(AppError::validation(
            field,
            format!("`{field}` must be a JSON object"),
        )),
    }
}

/// A user's second factors (never a secret).
#[derive(SimpleObject)]
pub struct SecondFactors {
    /// An authenticator app is active.
    pub totp: bool,
    /// Codes by mail are on (Cocobase's two-factor log-in).
    pub email: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u64,
    /// When the first active factor was enabled.
    pub enabled_at: Option<DateTime<Utc>>,
}

impl From<crate::domain::second_factor::Factors> for SecondFactors {
    fn from(f: crate::domain::second_factor::Factors) -> Self {
        Self {
            totp: f.totp,
            email: f.email,
            recovery_codes_left: f.recovery_codes_left as u64,
            enabled_at: f.enabled_at,
        }
    }
}
