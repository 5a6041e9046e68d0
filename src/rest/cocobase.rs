//! Cocobase: `/auth-collections/*` (and `/auth/register`), errors as FastAPI's
//! `{"detail": …}`. Profile fields live under `data`; tokens are long-lived
//! (Cocobase clients never refresh) but revocable like every other session.
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};

use super::{
    Fallback, QueryParams, TenantSlug, caller, iso_ts as ts, json_object, not_enabled, opt_object,
    opt_string, string_field,
};
use crate::app::AppState;
use crate::auth::extract::RequestCredentials;
use crate::domain::access::Caller;
use crate::domain::collections::{Collection, DEFAULT_COLLECTION};
use crate::domain::email_codes;
use crate::domain::filter::{Field, Filter, Op, Sort, guess_value};
use crate::domain::users::{
    self, ChangePasswordRequest, LogInRequest, SignUpRequest, TokenLifetime, UpdateProfileRequest,
    User, UserQuery,
};
use crate::error::AppError;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize)]
struct IdPath {
    id: String,
}

/// Every Cocobase route.
pub fn routes() -> Router<AppState> {
    let disabled = |what: &'static str| post(move || async move { CocoError(not_enabled(what)) });
    Router::new()
        .route("/auth-collections/signup", post(signup))
        .route("/auth-collections/login", post(login))
        .route(
            "/auth-collections/user",
            get(current_user).put(update_user).patch(update_user),
        )
        .route("/auth-collections/change-password", post(change_password))
        .route("/auth-collections/users", get(list_users))
        .route("/auth-collections/users/{id}", get(get_user))
        .route("/auth/register", post(register))
        .route(
            "/auth-collections/google-verify",
            disabled("Google sign-in"),
        )
        .route(
            "/auth-collections/github-verify",
            disabled("GitHub sign-in"),
        )
        .route(
            "/auth-collections/verify-google-login",
            disabled("Google sign-in"),
        )
        .route(
            "/auth-collections/oauth/google",
            get(|| async { CocoError(not_enabled("Google sign-in")) }),
        )
        .route(
            "/auth-collections/login-google",
            get(|| async { CocoError(not_enabled("Google sign-in")) }),
        )
        .route(
            "/auth-collections/2fa/{action}",
            disabled("two-factor authentication"),
        )
        .route(
            "/auth-collections/verify-email/{action}",
            post(verify_email),
        )
        .route("/auth-collections/forgot-password", post(forgot_password))
}

/// An error in Cocobase's shape.
#[derive(Debug)]
pub struct CocoError(pub AppError);

impl From<AppError> for CocoError {
    fn from(e: AppError) -> Self {
        CocoError(e)
    }
}

impl IntoResponse for CocoError {
    fn into_response(self) -> Response {
        let e = self.0;
        super::log_internal(&e);
        let (status, detail) = match &e {
            AppError::EmailExists => (400, json!("Email already registered")),
            AppError::InvalidCredentials => (401, json!("Invalid email or password")),
            AppError::Unauthenticated => (401, json!("Not authenticated")),
            AppError::InvalidToken => (401, json!("Invalid token or token expired")),
            AppError::AccountDisabled => (403, json!("This account is disabled")),
            AppError::NotFound("user") => (404, json!("User not found")),
            AppError::InvalidEmail | AppError::WeakPassword(_) | AppError::Validation { .. } => {
                let loc = e.field().unwrap_or("body").to_owned();
                (
                    422,
                    json!([{"loc": ["body", loc], "msg": e.public_message(), "type": e.code().to_lowercase()}]),
                )
            }
            AppError::Conflict(_) => (400, json!(e.public_message())),
            other => (other.status(), json!(other.public_message())),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        super::with_retry_after(
            &e,
            (status, Json(json!({"detail": detail}))).into_response(),
        )
    }
}

type Result<T> = std::result::Result<T, CocoError>;

/// A user as Cocobase shows it.
pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "data": u.data,
        "roles": u.roles,
        "verified": u.verified,
        "client_id": u.project_id,
        "created_at": ts(u.created_at),
        "updated_at": ts(u.updated_at),
    })
}

fn auth_json(token: &str, user: &User) -> Value {
    json!({"access_token": token, "token_type": "bearer", "user": user_json(user)})
}

async fn resolve(
    state: &AppState,
    creds: &RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
) -> Result<Caller> {
    Ok(caller(state, &creds.0, slug.as_ref().map(|e| &e.0), Fallback::None).await?)
}

fn body(headers: &HeaderMap, bytes: &[u8]) -> Result<Map<String, Value>> {
    if super::is_multipart(headers) {
        return Err(not_enabled("file upload").into());
    }
    Ok(json_object(bytes)?)
}

/// Keys of a sign-up or update body that are not profile data.
const ACCOUNT_KEYS: &[&str] = &["email", "password", "data", "roles", "$append", "$remove"];

/// Profile data: the `data` object merged with any flat fields (both documented).
fn profile_of(body: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut data = opt_object(body, "data")?;
    for (k, v) in body {
        if !ACCOUNT_KEYS.contains(&k.as_str()) {
            data.insert(k.clone(), v.clone());
        }
    }
    Ok(data)
}

async fn signup(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response> {
    let caller = resolve(&state, &creds, slug).await?;
    let body = body(&headers, &bytes)?;
    let req = SignUpRequest {
        email: string_field(&body, "email")?,
        password: string_field(&body, "password")?,
        // Self-assigned `roles` are ignored: roles are an administrator's decision.
        data: profile_of(&body)?,
        collection: None,
        client: caller.client.clone(),
        lifetime: TokenLifetime::LongLived,
    };
    let auth = users::sign_up(&state.services, caller.project()?, req).await?;
    Ok((StatusCode::OK, Json(auth_json(&auth.token, &auth.user))).into_response())
}

/// `{email}`: the same answer whether or not the email has an account. The
/// mail's token and code are confirmed through GraphQL `resetPassword` (or the
/// PocketBase and urBackend URLs): Cocobase documents no confirmation URL.
async fn forgot_password(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    email_codes::enabled(&state.services, email_codes::Purpose::PasswordReset)?;
    let caller = resolve(&state, &creds, slug).await?;
    let body = body(&headers, &bytes)?;
    let email = string_field(&body, "email")?;
    email_codes::request(
        &state.services,
        caller.project()?,
        None,
        &email,
        &caller.client,
        email_codes::Purpose::PasswordReset,
    )
    .await?;
    Ok(Json(
        json!({"message": "If that email is registered, a password reset email has been sent."}),
    ))
}

/// `send` and `resend` mail the signed-in user a verification link and code;
/// `verify` takes `{token}`.
async fn verify_email(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(action): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let purpose = email_codes::Purpose::Verification;
    email_codes::enabled(&state.services, purpose)?;
    let caller = resolve(&state, &creds, slug).await?;
    match action.as_str() {
        "send" | "resend" => {
            let me = caller.user()?;
            email_codes::send_code(&state.services, me, purpose).await?;
            Ok(Json(json!({"message": "Verification email sent"})))
        }
        "verify" => {
            let body = body(&headers, &bytes)?;
            let token = string_field(&body, "token")?;
            let project = caller.project()?;
            let proof = email_codes::Proof::Token(&token);
            email_codes::verify_email(&state.services, project, None, proof, &caller.client)
                .await?;
            Ok(Json(json!({"message": "Email verified successfully"})))
        }
        _ => Err(AppError::NotFound("action").into()),
    }
}

async fn login(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let body = body(&headers, &bytes)?;
    let req = LogInRequest {
        email: string_field(&body, "email")?,
        password: string_field(&body, "password")?,
        client: caller.client.clone(),
        lifetime: TokenLifetime::LongLived,
        ..Default::default()
    };
    let auth = users::log_in(&state.services, caller.project()?, req).await?;
    Ok(Json(auth_json(&auth.token, &auth.user)))
}

async fn current_user(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    Ok(Json(user_json(caller.user()?)))
}

/// PUT and PATCH: merge `data` (and flat fields), `$append`/`$remove`, and a
/// `password` key changes the password, as the SDK does.
async fn update_user(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let me = caller.user()?;
    let body = body(&headers, &bytes)?;
    if let Some(email) = opt_string(&body, "email")? {
        if !email.trim().eq_ignore_ascii_case(&me.email) {
            return Err(
                AppError::validation("email", "the email address cannot be changed here").into(),
            );
        }
    }
    let mut data = profile_of(&body)?;
    // `$append`/`$remove` may sit at the top level or inside `data`.
    let mut append = opt_object(&body, "$append")?;
    let mut remove = opt_object(&body, "$remove")?;
    for (key, target) in [("$append", &mut append), ("$remove", &mut remove)] {
        match data.remove(key) {
            Some(Value::Object(m)) => target.extend(m),
            Some(_) => {
                return Err(AppError::validation(key, format!("`{key}` must be an object")).into());
            }
            None => {}
        }
    }
    let password = opt_string(&body, "password")?;
    if let Some(pw) = &password {
        let collection = state
            .services
            .catalog
            .collection(&state.services.db, &me.collection_id)
            .await?;
        crate::auth::password::check_policy(pw, collection.settings.min_password_length)?;
    }
    let mut user = me.clone();
    if !data.is_empty() || !append.is_empty() || !remove.is_empty() {
        user = users::update_profile(
            &state.services,
            me,
            UpdateProfileRequest {
                data,
                append,
                remove,
            },
        )
        .await?;
    }
    if let Some(new_password) = password {
        let req = ChangePasswordRequest {
            current_password: None,
            new_password,
            lifetime: TokenLifetime::LongLived,
            revoke_current_tokens: false,
        };
        user = users::change_password(&state.services, &user, caller.session_id()?, req)
            .await?
            .user;
    }
    Ok(Json(user_json(&user)))
}

async fn change_password(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let me = caller.user()?;
    let body = body(&headers, &bytes)?;
    let pick = |names: &[&str]| -> Result<Option<String>> {
        for n in names {
            if let Some(v) = opt_string(&body, n)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    };
    let current = pick(&[
        "current_password",
        "old_password",
        "currentPassword",
        "oldPassword",
    ])?
    .ok_or_else(|| AppError::validation("current_password", "`current_password` is required"))?;
    let new_password = pick(&["new_password", "newPassword", "password"])?
        .ok_or_else(|| AppError::validation("new_password", "`new_password` is required"))?;
    let req = ChangePasswordRequest {
        current_password: Some(current),
        new_password,
        lifetime: TokenLifetime::LongLived,
        revoke_current_tokens: true,
    };
    let auth = users::change_password(&state.services, me, caller.session_id()?, req).await?;
    let mut out = auth_json(&auth.token, &auth.user);
    out["message"] = json!("Password changed successfully");
    Ok(Json(out))
}

/// `GET /auth-collections/users/{id}`: the full record for its owner and the
/// secret key; otherwise only the fields declared public.
async fn get_user(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let project = caller.project()?;
    let user = users::get(&state.services.db, &project.id, &id).await?;
    if caller.is_admin() || caller.user.as_ref().is_some_and(|u| u.id == user.id) {
        return Ok(Json(user_json(&user)));
    }
    let collection = state
        .services
        .catalog
        .collection(&state.services.db, &user.collection_id)
        .await?;
    let public: Map<String, Value> = user
        .data
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| collection.field(k).is_some_and(|f| f.public))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(
        json!({"id": user.id, "data": public, "created_at": ts(user.created_at)}),
    ))
}

/// Query parameters that are not filters.
const LIST_KEYS: &[&str] = &[
    "limit",
    "offset",
    "sort",
    "order",
    "sort_by",
    "sort_order",
    "populate",
    "select",
    "count",
];

/// Splits `field_op` into its field and operator (longest operator suffix wins).
fn split_op(key: &str) -> (String, Op) {
    let mut best: Option<(usize, Op)> = None;
    for name in Op::NAMES {
        let suffix = format!("_{name}");
        if key.len() > suffix.len()
            && key.ends_with(&suffix)
            && best.is_none_or(|(l, _)| suffix.len() > l)
        {
            best = Some((suffix.len(), Op::parse(name).expect("listed operator")));
        }
    }
    match best {
        Some((len, op)) => (key[..key.len() - len].to_owned(), op),
        None => (key.to_owned(), Op::Eq),
    }
}

fn filter_value(op: Op, raw: &str) -> Value {
    match op {
        Op::In | Op::NotIn => Value::Array(raw.split(',').map(|v| guess_value(v.trim())).collect()),
        Op::IsNull => Value::Bool(matches!(raw, "true" | "1" | "yes")),
        Op::Contains | Op::IContains | Op::StartsWith | Op::EndsWith => {
            Value::String(raw.to_owned())
        }
        _ => guess_value(raw),
    }
}

fn condition(key: &str, raw: &str) -> Result<Filter> {
    // `a__or__b_contains=v`: any of several fields.
    let (fields, op) = split_op(key);
    let value = filter_value(op, raw);
    let mut any = Vec::new();
    for f in fields.split("__or__") {
        any.push(Filter::cond(Field::parse(f)?, op, value.clone()));
    }
    Ok(if any.len() == 1 {
        any.pop().expect("one")
    } else {
        Filter::Or(any)
    })
}

/// Builds the list query from Cocobase's parameters.
pub fn list_query(raw: Option<&str>) -> Result<UserQuery> {
    let params = QueryParams::parse(raw);
    let get = |k: &str| params.last(k);
    let number = |k: &str, default: u64| -> Result<u64> {
        match get(k) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                AppError::validation(k, format!("`{k}` must be a non-negative integer")).into()
            }),
        }
    };
    let limit = number("limit", 50)?;
    if limit == 0 || limit > users::MAX_PAGE_SIZE {
        return Err(AppError::validation(
            "limit",
            format!("`limit` must be between 1 and {}", users::MAX_PAGE_SIZE),
        )
        .into());
    }
    let offset = number("offset", 0)?;
    let mut all = Vec::new();
    let mut groups: Vec<(String, Vec<Filter>)> = Vec::new();
    for (key, value) in params.pairs() {
        if LIST_KEYS.contains(&key.as_str()) {
            continue;
        }
        // `[or]key=v` / `[or:group]key=v`: conditions of one OR group.
        if let Some(rest) = key.strip_prefix("[or") {
            let (group, field) = rest
                .split_once(']')
                .ok_or_else(|| AppError::validation(key.clone(), "unbalanced `[or` prefix"))?;
            let cond = condition(field, value)?;
            match groups.iter_mut().find(|(g, _)| g == group) {
                Some((_, list)) => list.push(cond),
                None => groups.push((group.to_owned(), vec![cond])),
            }
            continue;
        }
        all.push(condition(key, value)?);
    }
    all.extend(groups.into_iter().map(|(_, list)| Filter::Or(list)));
    let sort_field = get("sort_by").or(get("sort"));
    let order = get("sort_order").or(get("order")).unwrap_or("desc");
    let descending = match order.to_ascii_lowercase().as_str() {
        "desc" => true,
        "asc" => false,
        _ => return Err(AppError::validation("order", "`order` must be asc or desc").into()),
    };
    let sort = match sort_field {
        Some(f) if !f.is_empty() => vec![Sort {
            field: Field::parse(f)?,
            descending,
        }],
        _ => vec![],
    };
    let filter = if all.is_empty() {
        None
    } else {
        Some(Filter::And(all))
    };
    if let Some(f) = &filter {
        f.validate()?;
    }
    Ok(UserQuery {
        collection: Some(DEFAULT_COLLECTION.into()),
        filter,
        sort,
        limit,
        offset,
        with_total: get("count") != Some("false"),
    })
}

/// `GET /auth-collections/users`: the secret key lists the project's users.
async fn list_users(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>> {
    let caller = resolve(&state, &creds, slug).await?;
    let project = caller.require_admin()?;
    let mut q = list_query(raw.as_deref())?;
    let limit = q.limit;
    // One more row tells whether there is a next page without a count.
    q.limit += 1;
    let mut page =
        users::query(&state.services.db, &state.services.catalog, &project.id, &q).await?;
    let has_more = page.items.len() as u64 > limit;
    page.items.truncate(limit as usize);
    let populate = populate_params(raw.as_deref());
    let items = if populate.is_empty() {
        page.items.iter().map(user_json).collect()
    } else {
        let coll = state
            .services
            .catalog
            .collection_by_name(&state.services.db, &project.id, DEFAULT_COLLECTION)
            .await?;
        populated(&state, &project.id, &coll, &page.items, &populate).await?
    };
    Ok(Json(json!({
        "data": items,
        "users": items,
        "total": page.total,
        "limit": limit,
        "offset": q.offset,
        "has_more": has_more,
    })))
}

/// The relations named by `populate` (repeatable, comma-separated, `*` for all).
fn populate_params(raw: Option<&str>) -> Vec<String> {
    QueryParams::parse(raw)
        .all("populate")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Relation fields of a user that `populate` names: declared relations and,
/// by Cocobase's convention, `<name>_id` keys (populated as `<name>`).
fn populate_fields(coll: &Collection, user: &User, populate: &[String]) -> Vec<String> {
    if !populate.iter().any(|p| p == "*") {
        return populate.to_vec();
    }
    let mut fields: Vec<String> = coll
        .fields
        .iter()
        .filter(|f| f.field_type == crate::domain::collections::FieldType::Relation)
        .map(|f| f.name.clone())
        .collect();
    if let Some(data) = user.data.as_object() {
        for key in data.keys() {
            if let Some(name) = key.strip_suffix("_id") {
                if !name.is_empty() && !fields.iter().any(|f| f == name) {
                    fields.push(name.to_owned());
                }
            }
        }
    }
    fields
}

/// Users with their relations embedded under `data.<relation>`, loaded in one query.
async fn populated(
    state: &AppState,
    project_id: &str,
    coll: &Collection,
    page: &[User],
    populate: &[String],
) -> Result<Vec<Value>> {
    let mut wanted: Vec<String> = Vec::new();
    for u in page {
        for f in populate_fields(coll, u, populate) {
            wanted.extend(users::relation_ids(&u.data, &f));
        }
    }
    wanted.sort();
    wanted.dedup();
    let found = users::get_many(&state.services.db, project_id, &wanted).await?;
    let embed = |id: &String| {
        found
            .get(id)
            .map(|r| json!({"id": r.id, "email": r.email, "data": r.data}))
    };
    Ok(page
        .iter()
        .map(|u| {
            let mut v = user_json(u);
            for f in populate_fields(coll, u, populate) {
                let ids = users::relation_ids(&u.data, &f);
                let many = u.data.get(&f).is_some_and(Value::is_array);
                let value = if many {
                    Value::Array(ids.iter().filter_map(embed).collect())
                } else {
                    ids.first().and_then(embed).unwrap_or(Value::Null)
                };
                if !ids.is_empty() {
                    v["data"][&f] = value;
                }
            }
            v
        })
        .collect())
}

/// `POST /auth/register`: `{success, data: {user, token}}`.
async fn register(
    State(state): State<AppState>,
    creds: RequestCredentials,
    slug: Option<Extension<TenantSlug>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let result: std::result::Result<Value, AppError> = async {
        let caller = caller(&state, &creds.0, slug.as_ref().map(|e| &e.0), Fallback::None).await?;
        if super::is_multipart(&headers) {
            return Err(not_enabled("file upload"));
        }
        let body = json_object(&bytes)?;
        let name = opt_string(&body, "name")?;
        let mut data = Map::new();
        if let Some(n) = &name {
            data.insert("name".into(), json!(n));
        }
        let req = SignUpRequest {
            email: string_field(&body, "email")?,
            password: string_field(&body, "password")?,
            data,
            collection: None,
            client: caller.client.clone(),
            lifetime: TokenLifetime::LongLived,
        };
        let auth = users::sign_up(&state.services, caller.project()?, req).await?;
        Ok(json!({
            "success": true,
            "data": {
                "user": {"id": auth.user.id, "email": auth.user.email, "name": name, "createdAt": ts(auth.user.created_at)},
                "token": auth.token,
            }
        }))
    }
    .await;
    match result {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(e) => {
            super::log_internal(&e);
            let (status, message) = match &e {
                AppError::EmailExists => (409, "A user with this email already exists".to_owned()),
                AppError::InvalidEmail => (400, "Please provide a valid email address".to_owned()),
                other => (other.status(), other.public_message()),
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                Json(json!({"success": false, "error": {"code": e.code(), "message": message}})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_suffixes_take_the_longest_match() {
        assert_eq!(split_op("age_gte"), ("age".into(), Op::Gte));
        assert_eq!(split_op("email_icontains"), ("email".into(), Op::IContains));
        assert_eq!(split_op("city_notin"), ("city".into(), Op::NotIn));
        assert_eq!(
            split_op("referred_by_id_isnull"),
            ("referred_by_id".into(), Op::IsNull)
        );
        assert_eq!(split_op("city"), ("city".into(), Op::Eq));
    }

    #[test]
    fn list_parameters_become_one_filter() {
        let q = list_query(Some("city_in=NYC,LA&age_gte=25&[or]name_contains=Jo&[or]name_contains=An&sort_by=age&sort_order=asc&count=false")).unwrap();
        assert!(!q.with_total);
        assert_eq!(
            q.sort,
            vec![Sort {
                field: Field::Data(vec!["age".into()]),
                descending: false
            }]
        );
        let Some(Filter::And(parts)) = q.filter else {
            panic!("and")
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0],
            Filter::cond(
                Field::Data(vec!["city".into()]),
                Op::In,
                json!(["NYC", "LA"])
            )
        );
        assert!(matches!(&parts[2], Filter::Or(v) if v.len() == 2));
        assert!(list_query(Some("limit=0")).is_err());
        assert!(list_query(Some("x_gt=1&order=sideways&sort=x")).is_err());
        assert!(list_query(Some("bad..path=1")).is_err());
    }
}
