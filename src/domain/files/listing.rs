//! A profile's stored files as a door lists them (GraphQL's `User.files`):
//! field, name, URL, size and type, in the order the profile names them,
//! and in a public view only those of fields the public view shows.
use super::changes::names_in;
use super::record::StoredFile;
use super::rules::FileRules;
use super::urls::url;
use crate::domain::access::View;
use crate::domain::collections::Collection;
use crate::domain::profile;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::error::AppResult;

/// A file of a profile, ready to show.
#[derive(Clone, Debug)]
pub struct ProfileFile {
    /// The profile field that holds it.
    pub field: String,
    /// The server's name for it (what the profile holds).
    pub name: String,
    /// Its download URL (a protected file also needs a file token).
    pub url: String,
    pub size: u64,
    /// The type found from its bytes.
    pub content_type: String,
    pub protected: bool,
}

/// The files of `user` (from `stored`) that `view` shows, in the order its
/// profile names them.
pub async fn shown(
    svc: &Services,
    user: &User,
    collection: &Collection,
    stored: Vec<StoredFile>,
    view: View,
) -> AppResult<Vec<ProfileFile>> {
    let visible = match view {
        View::Full => None,
        View::Public => Some(profile::public_view(collection, &user.data)),
    };
    let mut files: Vec<(usize, StoredFile)> = stored
        .into_iter()
        .filter(|f| visible.as_ref().is_none_or(|v| v.contains_key(&f.field)))
        .filter_map(|f| {
            let names = names_in(user.data.get(&f.field));
            let at = names.iter().position(|n| *n == f.name)?;
            Some((at, f))
        })
        .collect();
    files.sort_by(|(a, f), (b, g)| f.field.cmp(&g.field).then(a.cmp(b)));
    if files.is_empty() {
        return Ok(vec![]);
    }
    let project = svc.catalog.project(&svc.db, &user.project_id).await?;
    Ok(files
        .into_iter()
        .map(|(_, f)| ProfileFile {
            url: url(
                &svc.public_url,
                &project,
                &collection.name,
                &user.id,
                &f.name,
            ),
            protected: FileRules::of(collection.field(&f.field)).protected,
            field: f.field,
            name: f.name,
            size: f.size,
            content_type: f.content_type,
        })
        .collect())
}
