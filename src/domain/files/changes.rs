//! How uploads and JSON values change a profile's file fields: new names
//! replace or join the field's names; JSON may only keep, reorder or drop
//! names the user already has, or clear the field (`null`, `""`).
use serde_json::{Map, Value, json};

use super::rules::FileRules;
use super::staging::NewFile;
use crate::domain::collections::{Collection, FieldType};
use crate::domain::users::model::UpdateProfileRequest;
use crate::error::{AppError, AppResult};

/// The names a profile value holds (a name, or a list of names).
pub fn names_in(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => vec![],
    }
}

fn value_of(rules: &FileRules, names: Vec<String>) -> Value {
    if rules.many() {
        json!(names)
    } else {
        json!(names.into_iter().next_back().unwrap_or_default())
    }
}

/// Folds the uploaded files into a profile change and checks what JSON sets
/// on declared file fields. `current` is the profile before the change.
pub fn fold(
    collection: &Collection,
    current: &Value,
    files: &[NewFile],
    p: &mut UpdateProfileRequest,
) -> AppResult<()> {
    let current = current.as_object().cloned().unwrap_or_default();
    let file_fields: Vec<_> = collection
        .fields
        .iter()
        .filter(|f| f.field_type == FieldType::File)
        .collect();
    for decl in &file_fields {
        let rules = FileRules::of(Some(decl));
        let key = &decl.name;
        let own = names_in(current.get(key));
        if let Some(v) = p.data.get(key) {
            let given = names_in(Some(v));
            if let Some(stranger) = given.iter().find(|n| !own.contains(n)) {
                return Err(AppError::validation(
                    key.clone(),
                    format!("`{key}` can only name files uploaded to it (not `{stranger}`)"),
                ));
            }
            p.data.insert(key.clone(), value_of(&rules, given));
        }
        if !rules.many() {
            // `avatar-` on a single file clears it.
            if let Some(v) = p.remove.remove(key) {
                let gone = names_in(Some(&v));
                let kept: Vec<_> = own.iter().filter(|n| !gone.contains(n)).cloned().collect();
                p.data.insert(key.clone(), value_of(&rules, kept));
            }
        }
    }
    let mut fields: Vec<&str> = files.iter().map(|f| f.field.as_str()).collect();
    fields.dedup();
    for field in fields {
        let rules = FileRules::of(collection.field(field));
        let new: Vec<_> = files.iter().filter(|f| f.field == field).collect();
        let names: Vec<String> = new.iter().map(|f| f.name.clone()).collect();
        let append = new.iter().all(|f| f.append);
        if !rules.many() {
            p.remove.remove(field);
            p.data.insert(field.to_owned(), value_of(&rules, names));
            continue;
        }
        let mut total = match p.data.get(field) {
            Some(v) => names_in(Some(v)),
            None if append => names_in(current.get(field)),
            None => vec![],
        };
        total.extend(names);
        let removed = names_in(p.remove.get(field));
        total.retain(|n| !removed.contains(n));
        p.remove.remove(field);
        p.data.insert(field.to_owned(), json!(total));
    }
    // A list field may not end up holding more than it declares.
    for decl in &file_fields {
        let rules = FileRules::of(Some(decl));
        let count = match p.data.get(&decl.name) {
            Some(v) => names_in(Some(v)).len(),
            None => {
                let own = names_in(current.get(&decl.name));
                let removed = names_in(p.remove.get(&decl.name));
                own.iter().filter(|n| !removed.contains(n)).count()
            }
        };
        if count > rules.max_select as usize {
            return Err(AppError::validation(
                decl.name.clone(),
                format!("`{}` holds at most {} file(s)", decl.name, rules.max_select),
            ));
        }
    }
    Ok(())
}

/// The same for a new user: there are no files yet to keep.
pub fn fold_new(
    collection: &Collection,
    files: &[NewFile],
    data: &mut Map<String, Value>,
) -> AppResult<()> {
    let mut p = UpdateProfileRequest {
        data: std::mem::take(data),
        ..Default::default()
    };
    fold(collection, &Value::Object(Map::new()), files, &mut p)?;
    *data = p.data;
    Ok(())
}
