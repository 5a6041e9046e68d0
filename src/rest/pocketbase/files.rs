//! `/api/files/…`: a record's file by its stored name (`?download=1`,
//! `?thumb=WxH`, `?token=` for protected fields), and file tokens.
use axum::Json;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::call::{Pb, Result};
use super::doc::Errors;
use crate::domain::files;
use crate::http::download::{self, Served};
use crate::http::query::QueryParams;

/// Path parameters by name: under `/p/{project}` there is one more.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FilePath {
    pub collection: String,
    pub record: String,
    pub filename: String,
}

#[utoipa::path(get, path = "/api/files/{collection}/{record}/{filename}", params(FilePath),
    summary = "A record's file (`download=1` to save it, `token` for protected fields, `thumb=WxH` for images)",
    responses((status = 200, description = "The file's bytes", body = Object), (status = 206, description = "A byte range", body = Object), Errors<403, 404>))]
pub async fn download_file(
    call: Pb,
    Path(p): Path<FilePath>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let coll = call.collection(&p.collection).await?;
    let params = QueryParams::parse(raw.as_deref());
    let token = params.last("token").filter(|t| !t.is_empty());
    let svc = call.services();
    let found = files::find(svc, &coll, &p.record, &p.filename, token).await?;
    let thumb = params.last("thumb").filter(|t| !t.is_empty());
    let object = found.object(svc, thumb).await?;
    let served = Served {
        object: &object,
        name: &found.row.name,
        download: matches!(params.last("download"), Some(v) if !v.is_empty() && v != "0" && v != "false"),
        private: found.rules.protected,
    };
    Ok(download::respond(&svc.files, &served, &headers).await?)
}

/// A short-lived token for protected files (`?token=`), for the signed-in
/// record or superuser.
#[utoipa::path(post, path = "/api/files/token", security(("bearer" = [])),
    summary = "A file token (3 minutes) for protected files",
    responses((status = 200, description = "`{token}`", body = Object), Errors<401>))]
pub async fn file_token(call: Pb) -> Result<Json<Value>> {
    let token = files::file_token(call.services(), &call.caller).await?;
    Ok(Json(json!({ "token": token })))
}
