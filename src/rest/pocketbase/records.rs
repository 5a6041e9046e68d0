//! Records of auth collections: create, view, update, delete, list. Which
//! records a caller may act on is the domain's rule (`Caller::may_manage`,
//! `Caller::list_scope`); others are reported missing, as PocketBase does.
use axum::Json;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::call::{CollPath, PbColl, PbRecord, RecordPath};
use super::call::{Pb, PbForm, Result, blank, confirm_password};
use super::doc::Errors;
use super::expand::{expand, select_fields};
use super::filter as pb_filter;
use super::record::{profile_fields, record_json};
use crate::domain::access::{Caller, ListScope};
use crate::domain::collections::Collection;
use crate::domain::files::{self, Staging};
use crate::domain::filter::{Field, Filter, Op};
use crate::domain::profile;
use crate::domain::users::{
    self, AccountUpdate, CurrentPassword, NewPassword, SignInContext, SignUpRequest, TokenLifetime,
    UpdateProfileRequest, User, UserQuery,
};
use crate::error::AppError;
use crate::http::query::QueryParams;

#[utoipa::path(post, path = "/api/collections/{collection}/records", params(CollPath), request_body = Object,
    summary = "Create a record (sign up)",
    responses((status = 200, description = "The record", body = Object), Errors<400>))]
pub async fn create_record(call: PbColl, form: PbForm) -> Result<Json<Value>> {
    if call.is_superusers() {
        return Err(AppError::Forbidden(
            "superusers are created with `authgraph superuser upsert`".into(),
        )
        .into());
    }
    let coll = call.collection().await?;
    let caller = &call.caller;
    let svc = call.services();
    let mut staging = Staging::for_new_user(&svc.files, &coll);
    let req = match create_request(form, &coll, caller, &mut staging).await {
        Ok(req) => req,
        Err(e) => {
            staging.discard().await;
            return Err(e);
        }
    };
    let (_, user) = files::create(svc, caller.project()?, req, staging).await?;
    Ok(Json(record_json(&user, &coll, caller.is_admin())))
}

async fn create_request(
    form: PbForm,
    coll: &Collection,
    caller: &Caller,
    staging: &mut Staging,
) -> Result<SignUpRequest> {
    let body = form_values(form, coll, staging).await?;
    let data = split_modifiers(profile_fields(&body)?).data;
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| blank("email"))?;
    let password = confirm_password(&body)?.ok_or_else(|| blank("password"))?;
    Ok(SignUpRequest {
        email: email.to_owned(),
        password,
        data,
        collection: Some(coll.name.clone()),
        context: SignInContext::new(&caller.sign_up_client(), TokenLifetime::LongLived),
        ..Default::default()
    })
}

/// A JSON body as sent; a multipart one with its text parts read as the
/// declared types, `@jsonPayload` merged and its files stored in `staging`.
async fn form_values(
    form: PbForm,
    coll: &Collection,
    staging: &mut Staging,
) -> Result<Map<String, Value>> {
    let read = form.read(Some(staging), &["@jsonPayload"]).await?;
    let mut out = Map::new();
    for (key, v) in read.text {
        let text = v.as_str().unwrap_or("");
        let field = key.trim_end_matches(['+', '-']).trim_start_matches('+');
        let value = match field {
            "emailVisibility" => Value::Bool(text == "true" || text == "1"),
            "email" | "password" | "passwordConfirm" | "oldPassword" => json!(text),
            _ => profile::from_form_text(coll, field, text),
        };
        out.insert(key, value);
    }
    out.extend(read.fields);
    Ok(out)
}

/// PocketBase's `field+`/`+field` (append) and `field-` (remove) modifiers.
fn split_modifiers(body: Map<String, Value>) -> UpdateProfileRequest {
    let mut profile = UpdateProfileRequest::default();
    for (k, v) in body {
        if let Some(f) = k.strip_suffix('+').or_else(|| k.strip_prefix('+')) {
            profile.append.insert(f.to_owned(), v);
        } else if let Some(f) = k.strip_suffix('-') {
            profile.remove.insert(f.to_owned(), v);
        } else {
            profile.data.insert(k, v);
        }
    }
    profile
}

/// The record the caller may act on, or `NotFound`.
async fn target(call: &Pb, coll: &Collection, id: &str) -> Result<User> {
    let caller = &call.caller;
    if caller.may_manage(id) {
        let user = match &caller.user {
            Some(me) if me.id == id => me.clone(),
            _ => {
                let db = &call.services().db;
                users::get(db, &caller.project()?.id, id).await?
            }
        };
        if user.collection_id == coll.id {
            return Ok(user);
        }
    }
    Err(AppError::NotFound("record").into())
}

#[utoipa::path(get, path = "/api/collections/{collection}/records/{id}", params(RecordPath), security(("bearer" = [])),
    summary = "View a record (own, or any for superusers)",
    responses((status = 200, description = "The record", body = Object), Errors<404>))]
pub async fn view_record(call: PbRecord) -> Result<Json<Value>> {
    let coll = call.collection().await?;
    let user = target(&call, &coll, &call.path.id).await?;
    let mut records = vec![record_json(&user, &coll, true)];
    let params = QueryParams::parse(call.query.as_deref());
    let param = params.last("expand").unwrap_or("");
    expand(&call, &coll, &mut records, param).await?;
    select_fields(&mut records, params.last("fields"));
    Ok(Json(records.pop().expect("one record")))
}

/// Profile fields, and `password` with `passwordConfirm` (and `oldPassword`
/// unless a superuser changes it), in one change.
#[utoipa::path(patch, path = "/api/collections/{collection}/records/{id}", params(RecordPath), security(("bearer" = [])), request_body = Object,
    summary = "Update a record; `oldPassword`/`password`/`passwordConfirm` change the password",
    responses((status = 200, description = "The record", body = Object), Errors<400, 404>))]
pub async fn update_record(call: PbRecord, form: PbForm) -> Result<Json<Value>> {
    let coll = call.collection().await?;
    let user = target(&call, &coll, &call.path.id).await?;
    let svc = call.services();
    let mut staging = Staging::new(&svc.files, &coll, &user.id);
    let update = match update_request(&call, &user, form, &coll, &mut staging).await {
        Ok(u) => u,
        Err(e) => {
            staging.discard().await;
            return Err(e);
        }
    };
    let updated = files::update(svc, &user, update, staging)
        .await
        .map_err(old_password)?;
    Ok(Json(record_json(&updated, &coll, true)))
}

/// PocketBase's answer to a missing or wrong `oldPassword`.
fn old_password(e: AppError) -> AppError {
    match e {
        AppError::InvalidCredentials => {
            AppError::validation("oldPassword", "Missing or invalid old password.")
        }
        other => other,
    }
}

async fn update_request(
    call: &Pb,
    user: &User,
    form: PbForm,
    coll: &Collection,
    staging: &mut Staging,
) -> Result<AccountUpdate> {
    let body = form_values(form, coll, staging).await?;
    if let Some(email) = body.get("email").and_then(Value::as_str) {
        if !email.trim().eq_ignore_ascii_case(&user.email) {
            return Err(AppError::validation(
                "email",
                "Use request-email-change to change the email address.",
            )
            .into());
        }
    }
    let current = body
        .get("oldPassword")
        .and_then(Value::as_str)
        .map(str::to_owned);
    // As in PocketBase, every earlier token of the record stops working.
    let password = confirm_password(&body)?
        .map(|new| NewPassword::by(&call.caller, new, CurrentPassword::Asked(current)))
        .transpose()
        .map_err(old_password)?;
    let profile = split_modifiers(profile_fields(&body)?);
    Ok(AccountUpdate::new(profile, password))
}

#[utoipa::path(delete, path = "/api/collections/{collection}/records/{id}", params(RecordPath), security(("bearer" = [])),
    summary = "Delete a record",
    responses((status = 204, description = "Deleted", body = Object), Errors<404>))]
pub async fn delete_record(call: PbRecord) -> Result<StatusCode> {
    let coll = call.collection().await?;
    let user = target(&call, &coll, &call.path.id).await?;
    users::delete(call.services(), &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/collections/{collection}/records", params(CollPath),
    summary = "List records (`filter`, `sort`, `page`, `perPage`, `skipTotal`)",
    responses((status = 200, description = "`{page, perPage, totalItems, totalPages, items}`", body = Object), Errors<400>))]
pub async fn list_records(call: PbColl) -> Result<Json<Value>> {
    let coll = call.collection().await?;
    let caller = &call.caller;
    let params = QueryParams::parse(call.query.as_deref());
    let get = |k: &str| params.last(k);
    let number = |k: &str, default: u64| -> Result<u64> {
        match get(k) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::validation(k, "Must be a positive integer.").into()),
        }
    };
    let page = number("page", 1)?;
    // The SDK's getFullList stops when a page is shorter than `perPage`, so the
    // echoed value is the one actually used.
    let per_page = number("perPage", 30)?.min(users::MAX_PAGE_SIZE);
    let skip_total = matches!(get("skipTotal"), Some("1" | "true"));
    let auth_id = caller.user.as_ref().map(|u| u.id.as_str());
    let mut parts: Vec<Filter> = Vec::new();
    if let Some(f) = pb_filter::parse(get("filter").unwrap_or(""), auth_id)? {
        parts.push(f);
    }
    let sort = pb_filter::parse_sort(get("sort").unwrap_or(""))?;
    let visible = match caller.list_scope() {
        ListScope::All => true,
        ListScope::Own(id) => {
            parts.push(Filter::cond(Field::Id, Op::Eq, json!(id)));
            true
        }
        ListScope::Nothing => false,
    };
    let (items, total) = if visible {
        let q = UserQuery {
            collection: Some(coll.name.clone()),
            filter: (!parts.is_empty()).then_some(Filter::And(parts)),
            sort,
            limit: per_page,
            offset: (page - 1).saturating_mul(per_page),
            with_total: !skip_total,
        };
        let svc = call.services();
        let result = users::query(&svc.db, &svc.catalog, &caller.project()?.id, &q).await?;
        (result.items, result.total)
    } else {
        (vec![], Some(0))
    };
    let mut items: Vec<Value> = items.iter().map(|u| record_json(u, &coll, true)).collect();
    expand(&call, &coll, &mut items, get("expand").unwrap_or("")).await?;
    select_fields(&mut items, get("fields"));
    let (total_items, total_pages) = match total {
        Some(t) if !skip_total => (t as i64, t.div_ceil(per_page) as i64),
        _ => (-1, -1),
    };
    Ok(Json(json!({
        "page": page,
        "perPage": per_page,
        "totalItems": total_items,
        "totalPages": total_pages,
        "items": items,
    })))
}
