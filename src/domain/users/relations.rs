//! Relations between users: ids held in profile fields (a declared relation
//! field, or by Cocobase's convention `<name>_id`), and the related users
//! loaded for a page in one query. Every door expands relations through here;
//! what a caller may see of a related user is `access`'s decision.
use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use serde_json::Value;

use super::model::User;
use super::query::get_many;
use crate::domain::collections::{Collection, FieldType};
use crate::error::AppResult;

/// The ids a relation field of a profile holds: one id or an array of ids,
/// or by Cocobase's convention in `<field>_id`.
pub fn relation_ids(data: &Value, field: &str) -> Vec<String> {
    let v = data
        .get(field)
        .filter(|v| !v.is_null() && !v.is_object())
        .or_else(|| data.get(format!("{field}_id")));
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

/// Whether a relation field holds many ids (an array) rather than one.
pub fn is_many(data: &Value, field: &str) -> bool {
    data.get(field).is_some_and(Value::is_array)
}

/// Every relation field of a profile: the collection's declared relation
/// fields and the `<name>` of each `<name>_id` key.
pub fn fields_of(collection: &Collection, data: &Value) -> Vec<String> {
    let mut fields: Vec<String> = collection
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::Relation)
        .map(|f| f.name.clone())
        .collect();
    if let Some(data) = data.as_object() {
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

/// The users that `field` of the given profiles points to, loaded in one
/// query; `keep` decides which ids are loaded at all (what the caller may see).
pub async fn load<'a>(
    db: &impl ConnectionTrait,
    project_id: &str,
    profiles: impl IntoIterator<Item = (&'a Value, &'a str)>,
    keep: impl Fn(&str) -> bool,
) -> AppResult<HashMap<String, User>> {
    let mut wanted: Vec<String> = profiles
        .into_iter()
        .flat_map(|(data, field)| relation_ids(data, field))
        .filter(|id| keep(id))
        .collect();
    wanted.sort();
    wanted.dedup();
    get_many(db, project_id, &wanted).await
}
