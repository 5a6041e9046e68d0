//! GraphQL types of profile files: a stored file (`File`), a file sent with
//! a mutation under the GraphQL multipart request spec (`FileUpload`, whose
//! `file` is an `Upload`), and the uploads read as streams for the domain.
use std::io::Seek;

use async_graphql::{Context, ErrorExtensions, InputObject, Object, Upload};
use bytes::Bytes;
use futures_util::Stream;

use super::loaders::{CollectionLoader, FileLoader};
use crate::domain::Services;
use crate::domain::access::View;
use crate::domain::files::listing::{self, ProfileFile};
use crate::domain::users::User;
use crate::error::{AppError, AppResult};
use crate::files::read_chunks;

/// Bytes read from an upload's temporary file at a time (off the executor).
const CHUNK: usize = 64 * 1024;

/// A stored file of a profile field.
pub struct FileObject(pub ProfileFile);

#[Object(name = "File")]
impl FileObject {
    /// The profile field that holds it.
    async fn field(&self) -> &str {
        &self.0.field
    }
    /// The server's name for it: what the profile's field holds.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where to download it. A protected file also needs `?token=` (a file
    /// token from `POST /api/files/token`).
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Its size in bytes.
    async fn size(&self) -> u64 {
        self.0.size
    }
    /// Its type, found from its bytes (not from what the client said).
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }
    /// Readable only with a file token.
    async fn protected(&self) -> bool {
        self.0.protected
    }
}

/// A file sent with a mutation: a part of a multipart request (the GraphQL
/// multipart request spec) mapped to `file`.
#[derive(InputObject)]
pub struct FileUpload {
    /// The profile field it goes to: a declared file field, or an undeclared
    /// key where the collection accepts undeclared fields.
    pub field: String,
    /// The file.
    pub file: Upload,
    /// Add it to the field's files (a field of many) instead of replacing them.
    #[graphql(default = false)]
    pub append: bool,
}

impl FileUpload {
    /// The part name as the domain's staging reads it (`docs+` appends).
    pub fn part(&self) -> String {
        if self.append {
            format!("{}+", self.field)
        } else {
            self.field.clone()
        }
    }

    /// The client's file name and the file's bytes as a stream.
    pub fn open(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<(String, impl Stream<Item = AppResult<Bytes>> + Unpin + use<>)> {
        let value = self.file.value(ctx).map_err(AppError::internal)?;
        let mut content = value.content;
        // The same part may be mapped to two places; each reads it whole.
        content.rewind().map_err(AppError::internal)?;
        let file = tokio::fs::File::from_std(content);
        Ok((value.filename, Box::pin(read_chunks(file, CHUNK))))
    }
}

/// The files of `user` the caller may see (`full`: all of them; else those
/// of public fields), of one field when `field` is given.
pub async fn files_of(
    ctx: &Context<'_>,
    user: &User,
    full: bool,
    field: Option<String>,
) -> async_graphql::Result<Vec<FileObject>> {
    let svc = ctx.data::<Services>()?;
    let stored = ctx
        .data::<async_graphql::dataloader::DataLoader<FileLoader>>()?
        .load_one(user.id.clone())
        .await
        .map_err(|e| e.as_ref().extend())?
        .unwrap_or_default();
    let stored = stored
        .into_iter()
        .filter(|f| field.as_ref().is_none_or(|name| *name == f.field))
        .collect();
    let Some(collection) = ctx
        .data::<async_graphql::dataloader::DataLoader<CollectionLoader>>()?
        .load_one(user.collection_id.clone())
        .await
        .map_err(|e| e.as_ref().extend())?
    else {
        return Ok(vec![]);
    };
    let view = if full { View::Full } else { View::Public };
    let files = listing::shown(svc, user, &collection, stored, view)
        .await
        .map_err(|e| e.extend())?;
    Ok(files.into_iter().map(FileObject).collect())
}
