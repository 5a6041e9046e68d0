//! File URLs as doors that show URLs (Cocobase) link them: the download route
//! `/api/files/{collection}/{record}/{name}` (under `/p/{slug}` for a project
//! other than `default`), absolute with `AUTHGRAPH_PUBLIC_URL` when set. And
//! back: a URL of one of the user's files, sent again, names that file.
use serde_json::{Map, Value};

use super::record;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::projects::Project;
use crate::domain::services::Services;
use crate::domain::users::model::User;
use crate::error::AppResult;

/// The URL of file `name` of `record` in `collection`.
pub fn url(
    public_url: &str,
    project: &Project,
    collection: &str,
    record: &str,
    name: &str,
) -> String {
    let base = public_url.trim_end_matches('/');
    let prefix = if project.slug == "default" {
        String::new()
    } else {
        format!("/p/{}", project.slug)
    };
    format!("{base}{prefix}/api/files/{collection}/{record}/{name}")
}

/// The keys of a profile that hold files: the declared file fields, and for
/// an existing user the (undeclared) keys its stored files belong to.
async fn file_keys(
    svc: &Services,
    collection: &Collection,
    user_id: Option<&str>,
) -> AppResult<Vec<String>> {
    let stored = match user_id {
        Some(id) => record::fields_of(&svc.db, id).await?,
        None => vec![],
    };
    Ok(with_declared(collection, stored))
}

/// `stored` (the keys a user's stored files belong to) with the collection's
/// declared file fields, each once.
fn with_declared(collection: &Collection, mut keys: Vec<String>) -> Vec<String> {
    for f in &collection.fields {
        if f.field_type == FieldType::File && !keys.contains(&f.name) {
            keys.push(f.name.clone());
        }
    }
    keys
}

/// Turns the names in `keys` of `user`'s profile `data` into URLs.
async fn link(
    svc: &Services,
    user: &User,
    collection: &Collection,
    keys: &[String],
    data: &mut serde_json::Map<String, Value>,
) -> AppResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let project = svc.catalog.project(&svc.db, &user.project_id).await?;
    for key in keys {
        if let Some(v) = data.get_mut(key) {
            let link = |n: &str| url(&svc.public_url, &project, &collection.name, &user.id, n);
            map_names(v, &link);
        }
    }
    Ok(())
}

fn map_names(v: &mut Value, f: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) if !s.is_empty() => *s = f(s),
        Value::Array(items) => {
            for item in items {
                if let Value::String(s) = item {
                    if !s.is_empty() {
                        *s = f(s);
                    }
                }
            }
        }
        _ => {}
    }
}

/// `user`'s profile with the names in its file fields as URLs.
pub async fn linked_profile(svc: &Services, user: &User) -> AppResult<Value> {
    let mut data = user.data.clone();
    let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
    let keys = file_keys(svc, &collection, Some(&user.id)).await?;
    if let Some(map) = data.as_object_mut() {
        link(svc, user, &collection, &keys, map).await?;
    }
    Ok(data)
}

/// For a page of users shown as JSON (`items[i]` is `users[i]`, its profile
/// under `data`): the names in file fields as URLs, with one query.
pub async fn link_page(svc: &Services, users: &[User], items: &mut [Value]) -> AppResult<()> {
    let ids = users.iter().map(|u| u.id.clone()).collect();
    let mut by_user = record::fields_by_user(&svc.db, ids).await?;
    for (user, item) in users.iter().zip(items.iter_mut()) {
        let collection = svc.catalog.collection(&svc.db, &user.collection_id).await?;
        let keys = with_declared(&collection, by_user.remove(&user.id).unwrap_or_default());
        if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
            link(svc, user, &collection, &keys, data).await?;
        }
    }
    Ok(())
}

/// Values of file fields that are file URLs (a client sending back the
/// profile it read) become the names they end in; whether the user owns
/// those names is checked with the change. `user_id`: an existing user.
pub async fn names_from_urls(
    svc: &Services,
    collection: &Collection,
    user_id: Option<&str>,
    data: &mut Map<String, Value>,
) -> AppResult<()> {
    let name_of = |s: &str| {
        if !s.contains('/') {
            return s.to_owned();
        }
        let path = s.split(['?', '#']).next().unwrap_or(s);
        path.rsplit('/').next().unwrap_or(path).to_owned()
    };
    for key in file_keys(svc, collection, user_id).await? {
        if let Some(v) = data.get_mut(&key) {
            map_names(v, &name_of);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::url;
    use crate::domain::projects::Project;

    #[test]
    fn urls_name_the_project_unless_it_is_the_default() {
        let mut p = Project {
            id: "p1".into(),
            slug: "default".into(),
            name: "D".into(),
            cors_origins: vec![],
            created_at: chrono::Utc::now(),
        };
        assert_eq!(
            url("", &p, "users", "u1", "a.png"),
            "/api/files/users/u1/a.png"
        );
        p.slug = "shop".into();
        assert_eq!(
            url("https://id.example.com/", &p, "users", "u1", "a.png"),
            "https://id.example.com/p/shop/api/files/users/u1/a.png"
        );
    }
}
