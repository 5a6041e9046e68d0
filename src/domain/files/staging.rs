//! Receiving uploads: each file part is streamed to storage under a random
//! key while its type (from the first bytes) and size are checked. What was
//! stored is deleted again unless the change that names it commits.
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::rules::FileRules;
use super::sniff::{HEAD_LEN, sniff};
use crate::auth::keys;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::profile;
use crate::error::{AppError, AppResult};
use crate::files::{FileStore, Writer};

/// A stored object waiting for the change that names it.
#[derive(Clone, Debug)]
pub struct NewFile {
    pub id: String,
    pub field: String,
    /// The name in the profile and the URL.
    pub name: String,
    pub storage_key: String,
    pub original_name: String,
    pub size: u64,
    pub content_type: String,
    /// Added to the field's files (`field+`) rather than replacing them.
    pub append: bool,
}

/// The uploads of one request, for one user of one collection.
pub struct Staging {
    store: FileStore,
    collection: Collection,
    user_id: String,
    files: Vec<NewFile>,
    kept: bool,
}

impl Staging {
    /// Uploads for `user_id` (a new user's id is chosen before its files arrive).
    pub fn new(store: &FileStore, collection: &Collection, user_id: &str) -> Self {
        Self {
            store: store.clone(),
            collection: collection.clone(),
            user_id: user_id.to_owned(),
            files: vec![],
            kept: false,
        }
    }

    /// Uploads for a user about to be created; its id is chosen now.
    pub fn for_new_user(store: &FileStore, collection: &Collection) -> Self {
        Self::new(store, collection, &keys::new_id())
    }

    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    pub fn files(&self) -> &[NewFile] {
        &self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The field and rules a part's name (`avatar`, `docs+`, `+docs`) refers to.
    fn target(&self, part: &str) -> AppResult<(String, FileRules, bool)> {
        let (field, append) = match (part.strip_suffix('+'), part.strip_prefix('+')) {
            (Some(f), _) | (None, Some(f)) => (f, true),
            _ => (part, false),
        };
        profile::check_key(field)?;
        let decl = self.collection.field(field);
        match decl {
            Some(d) if d.field_type != FieldType::File => Err(AppError::validation(
                field,
                format!("`{field}` is not a file field"),
            )),
            None if !self.collection.settings.allow_undeclared_fields => Err(AppError::validation(
                field,
                format!("`{field}` is not a declared profile field"),
            )),
            _ => Ok((field.to_owned(), FileRules::of(decl), append)),
        }
    }

    /// Streams one file part to storage. A type the field does not accept, a
    /// file over its size or more files than it holds are refused; the
    /// object of a refused part is not kept.
    pub async fn receive<S>(&mut self, part: &str, original_name: &str, body: S) -> AppResult<()>
    where
        S: Stream<Item = AppResult<Bytes>> + Unpin,
    {
        let (field, rules, append) = self.target(part)?;
        let already = self.files.iter().filter(|f| f.field == field).count() as u32;
        if already + 1 > rules.max_select {
            return Err(AppError::validation(
                field.clone(),
                format!("`{field}` holds at most {} file(s)", rules.max_select),
            ));
        }
        let mut body = body;
        // The head decides the type before anything is stored.
        let mut head = Vec::with_capacity(HEAD_LEN);
        let mut pending: Vec<Bytes> = vec![];
        while head.len() < HEAD_LEN {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk?;
                    let take = chunk.len().min(HEAD_LEN - head.len());
                    head.extend_from_slice(&chunk[..take]);
                    pending.push(chunk);
                }
                None => break,
            }
        }
        if head.is_empty() {
            return Err(AppError::validation(field, "the file is empty"));
        }
        let sniffed = sniff(&head, original_name);
        if !rules.allows(sniffed.content_type) {
            return Err(AppError::validation(
                field,
                format!(
                    "files of type {} are not accepted here",
                    sniffed.content_type
                ),
            ));
        }
        let id = keys::random_token(16).to_lowercase();
        let storage_key = format!(
            "{}/{}/{}/{}",
            self.collection.project_id, self.collection.id, self.user_id, id
        );
        let mut writer = self.store.writer(&storage_key).await?;
        let written = copy(&mut writer, pending, &mut body, rules.max_size, &field).await;
        let size = match written {
            Ok(size) => size,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        };
        if let Err(e) = writer.finish().await {
            self.store.delete(&[storage_key]).await;
            return Err(e);
        }
        self.files.push(NewFile {
            name: stored_name(original_name, sniffed.ext),
            id,
            field,
            storage_key,
            original_name: clean_original(original_name),
            size,
            content_type: sniffed.content_type.to_owned(),
            append,
        });
        Ok(())
    }

    /// The change that names the files committed: they stay.
    pub fn keep(mut self) {
        self.kept = true;
    }

    /// The change failed: the stored objects are deleted.
    pub async fn discard(mut self) {
        let keys = self.take_keys();
        self.store.delete(&keys).await;
    }

    fn take_keys(&mut self) -> Vec<String> {
        self.kept = true;
        std::mem::take(&mut self.files)
            .into_iter()
            .map(|f| f.storage_key)
            .collect()
    }
}

impl Drop for Staging {
    /// A request abandoned halfway (the client went away, a panic) leaves no object.
    fn drop(&mut self) {
        if self.kept || self.files.is_empty() {
            return;
        }
        let keys = self.take_keys();
        let store = self.store.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { store.delete(&keys).await });
        }
    }
}

async fn copy<S>(
    writer: &mut Writer,
    pending: Vec<Bytes>,
    body: &mut S,
    max: u64,
    field: &str,
) -> AppResult<u64>
where
    S: Stream<Item = AppResult<Bytes>> + Unpin,
{
    let mut size: u64 = 0;
    let mut add = |n: usize| {
        size += n as u64;
        if size > max {
            Err(AppError::FileTooLarge {
                field: field.to_owned(),
                limit: max,
            })
        } else {
            Ok(())
        }
    };
    for chunk in pending {
        add(chunk.len())?;
        writer.write(chunk).await?;
    }
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        add(chunk.len())?;
        writer.write(chunk).await?;
    }
    Ok(size)
}

/// The server's name for a file: the client's stem reduced to `[a-z0-9_]`,
/// a random suffix and the extension of the detected type. Safe in a path,
/// a URL and a header as it is.
pub fn stored_name(original: &str, ext: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let mut clean: String = stem
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() { c } else { '_' }
        })
        .take(50)
        .collect();
    let trimmed = clean.trim_matches('_');
    clean = if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    };
    format!("{clean}_{}.{ext}", keys::random_token(10).to_lowercase())
}

/// The client's name as metadata: no path, no control characters, bounded.
fn clean_original(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or("");
    base.chars().filter(|c| !c.is_control()).take(255).collect()
}

#[cfg(test)]
mod tests {
    use super::stored_name;

    #[test]
    fn stored_names_keep_nothing_of_a_path() {
        for hostile in [
            "../../etc/passwd",
            "..\\..\\boot.ini",
            "a\r\nSet-Cookie: x.png",
            "",
        ] {
            let n = stored_name(hostile, "png");
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'_'
                    || b == b'.'),
                "{n}"
            );
            assert!(!n.contains(".."), "{n}");
            assert!(n.ends_with(".png"));
        }
    }
}
