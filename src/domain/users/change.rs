//! The statements of one account update, as a write for `store::writer`
//! (on SQLite it runs under a savepoint of the writer task's batch, so it
//! owns everything it needs and reads nothing of the request's scope).
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, Set};

use entity::user;

use super::issue::remap;
use super::model::{UpdateProfileRequest, User};
use crate::domain::audit::Event;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::files::record::{self as file_rows, Owner};
use crate::domain::files::staging::NewFile;
use crate::domain::profile;
use crate::domain::sessions;
use crate::error::{AppError, AppResult};
use crate::store;
use crate::store::writer::Work;

/// An account update, checked and ready to write.
pub(super) struct Change {
    pub user: User,
    pub collection: Collection,
    /// The profile change with the uploads folded in.
    pub profile: UpdateProfileRequest,
    pub files: Vec<NewFile>,
    pub password: Option<PasswordWrite>,
    /// Its audit events, stamped with the request's actor and client.
    pub audit: Vec<Event>,
    pub now: DateTime<Utc>,
}

/// A new password's part of the write.
pub(super) struct PasswordWrite {
    pub hash: String,
    pub keep_session: Option<String>,
    pub revoke_current_tokens: bool,
}

/// What a committed account update left.
pub(super) struct Changed {
    pub row: user::Model,
    /// Storage keys of the files the change dropped (deleted after commit).
    pub obsolete: Vec<String>,
}

impl Change {
    /// Whether the change may add or drop file rows: a file was uploaded, or
    /// a declared file field is set or changed. Otherwise the rows stay as
    /// they are, and the lookup of them is skipped.
    fn touches_files(&self) -> bool {
        let p = &self.profile;
        !self.files.is_empty()
            || p.data
                .keys()
                .chain(p.append.keys())
                .chain(p.remove.keys())
                .any(|key| {
                    self.collection
                        .field(key)
                        .is_some_and(|f| f.field_type == FieldType::File)
                })
    }
}

impl Work for Change {
    type Output = Changed;

    /// `updated_at` and the merge in one `UPDATE … RETURNING` (which also
    /// finds a deleted row), then each `$append` and `$remove` as one atomic
    /// `UPDATE` inside the database, the size check on the result, file rows,
    /// the password and the audit rows: all in the caller's transaction.
    async fn run(self, txn: &DatabaseTransaction) -> AppResult<Changed> {
        let (id, collection) = (&self.user.id, &self.collection);
        let p = &self.profile;
        let mut row = store::users::merge(txn, id, self.now, &p.data)
            .await
            .map_err(|e| remap(e, collection))?
            .ok_or(AppError::NotFound("user"))?;
        for (key, value) in &p.append {
            let values = profile::values_of(value);
            if let Some(after) = store::users::append(txn, id, key, &values)
                .await
                .map_err(|e| remap(e, collection))?
            {
                row = after;
            }
        }
        for (key, value) in &p.remove {
            let values = profile::values_of(value);
            if let Some(after) = store::users::remove(txn, id, key, &values).await? {
                row = after;
            }
        }
        // Checked after the change, inside the transaction: a too-large result rolls back.
        profile::check_size(&row.data)?;
        let obsolete = if self.touches_files() {
            let owner = Owner {
                user_id: id,
                project_id: &self.user.project_id,
                collection_id: &self.user.collection_id,
            };
            file_rows::record_in(txn, &owner, &self.files, &row.data).await?
        } else {
            vec![]
        };
        if let Some(pw) = self.password {
            let version = row.token_version + i64::from(pw.revoke_current_tokens);
            let mut active: user::ActiveModel = row.into();
            active.password_hash = Set(pw.hash);
            active.token_version = Set(version);
            row = active.update(txn).await?;
            let keep = pw.keep_session.as_deref();
            sessions::revoke_all_in(txn, id, keep, "password changed").await?;
        }
        for event in self.audit {
            event.save_in(txn).await?;
        }
        Ok(Changed { row, obsolete })
    }
}
