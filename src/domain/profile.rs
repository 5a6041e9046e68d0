//! Profile data rules: key names, reserved keys, declared types, size.
use serde_json::{Map, Value};

use super::collections::{Collection, FieldDecl};
use crate::error::{AppError, AppResult};

/// Maximum size of a user's serialized profile data.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;

/// Keys that name account attributes; they can never be set through profile data
/// (mass-assignment guard, and the REST dialects flatten profile fields beside them).
pub const RESERVED_KEYS: &[&str] = &[
    "id",
    "_id",
    "email",
    "password",
    "password_hash",
    "passwordHash",
    "roles",
    "role",
    "verified",
    "disabled",
    "token_version",
    "tokenKey",
    "created_at",
    "updated_at",
    "created",
    "updated",
    "createdAt",
    "updatedAt",
    "collectionId",
    "collectionName",
    "expand",
    "data",
];

/// Key names never shown in a public view, whatever the declarations say.
const SECRET_LOOKING: &[&str] = &[
    "password", "email", "token", "otp", "secret", "session", "refresh",
];

/// Whether a key's name looks like it holds a secret.
fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_LOOKING.iter().any(|s| k.contains(s))
}

/// The public view of a profile, the same for every door: the fields the
/// collection declares `public`, when it declares any; otherwise every field
/// (an undeclared collection has said nothing to hide). Keys that look like
/// secrets are never shown.
pub fn public_view(collection: &Collection, data: &Value) -> Map<String, Value> {
    let declared = collection.fields.iter().any(|f| f.public);
    let Some(profile) = data.as_object() else {
        return Map::new();
    };
    profile
        .iter()
        .filter(|(k, _)| !looks_secret(k))
        .filter(|(k, _)| !declared || collection.field(k).is_some_and(|f| f.public))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Checks a profile key: 1-64 characters of letters, digits, `_` or `-`.
pub fn check_key(key: &str) -> AppResult<()> {
    let well_formed = !key.is_empty()
        && key.len() <= 64
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !well_formed {
        return Err(AppError::validation(
            "data",
            format!(
                "profile key `{}` must be 1-64 letters, digits, `_` or `-`",
                truncate(key, 80)
            ),
        ));
    }
    if RESERVED_KEYS.contains(&key) {
        return Err(AppError::validation(
            key,
            format!("`{key}` cannot be set through profile data"),
        ));
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Checks values being written to the profile against the collection's declarations.
pub fn check_values(collection: &Collection, values: &Map<String, Value>) -> AppResult<()> {
    for (key, value) in values {
        let decl = declaration(collection, key)?;
        check_dialect_field(decl, key, value)?;
        let Some(decl) = decl else {
            continue;
        };
        decl.check_value(value)?;
        if decl.required && value.is_null() {
            return Err(AppError::validation(
                key.clone(),
                format!("`{key}` is required"),
            ));
        }
    }
    Ok(())
}

/// Profile keys the REST dialects read as text (urBackend's `username` in
/// `public/:username`, the `name` and `avatar` Cocobase, PocketBase and the
/// OAuth flows fill), whether or not the collection declares them.
const DIALECT_TEXT_FIELDS: &[&str] = &["username", "name", "avatar"];

/// Longest `username`, in characters.
const MAX_USERNAME_CHARS: usize = 64;

/// The dialects' own rule for the keys they read: a string (or null) unless
/// the collection declares the key with another non-JSON type, and a
/// `username` is at most 64 letters, digits, `_`, `-` or `.`, so it is one path
/// segment and can be looked up again.
fn check_dialect_field(decl: Option<&FieldDecl>, key: &str, value: &Value) -> AppResult<()> {
    use super::collections::FieldType;
    if !DIALECT_TEXT_FIELDS.contains(&key) || value.is_null() {
        return Ok(());
    }
    let typed_by_declaration = decl.is_some_and(|d| d.field_type != FieldType::Json);
    match value {
        Value::String(text) if key == "username" => {
            let chars = text.chars().count();
            let well_formed = chars <= MAX_USERNAME_CHARS
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if well_formed {
                Ok(())
            } else {
                Err(AppError::validation(
                    key,
                    format!(
                        "`username` must be at most {MAX_USERNAME_CHARS} letters, digits, `_`, `-` or `.`"
                    ),
                ))
            }
        }
        Value::String(_) => Ok(()),
        _ if typed_by_declaration => Ok(()),
        _ => Err(AppError::validation(
            key,
            format!("`{key}` must be a string"),
        )),
    }
}

/// A key's declaration after checking its name; `None` for an undeclared key
/// in a collection that allows them, an error where it does not.
fn declaration<'c>(collection: &'c Collection, key: &str) -> AppResult<Option<&'c FieldDecl>> {
    check_key(key)?;
    match collection.field(key) {
        None if !collection.settings.allow_undeclared_fields => Err(AppError::validation(
            key,
            format!("`{key}` is not a declared profile field"),
        )),
        found => Ok(found),
    }
}

/// Checks the complete profile of a new user: values, required fields, size.
pub fn check_new_profile(collection: &Collection, data: &Map<String, Value>) -> AppResult<()> {
    check_values(collection, data)?;
    for decl in collection.fields.iter().filter(|f| f.required) {
        if data.get(&decl.name).is_none_or(Value::is_null) {
            return Err(AppError::validation(
                decl.name.clone(),
                format!("`{}` is required", decl.name),
            ));
        }
    }
    check_size(&Value::Object(data.clone()))
}

/// Rejects profiles over `MAX_PROFILE_BYTES`.
pub fn check_size(data: &Value) -> AppResult<()> {
    let len = serde_json::to_vec(data)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if len > MAX_PROFILE_BYTES {
        Err(AppError::PayloadTooLarge(MAX_PROFILE_BYTES))
    } else {
        Ok(())
    }
}

/// Checks `$append`/`$remove` keys: the field must hold an array.
pub fn check_array_ops(
    collection: &Collection,
    ops: &Map<String, Value>,
    op: &str,
) -> AppResult<()> {
    for (key, value) in ops {
        let Some(decl) = declaration(collection, key)? else {
            continue;
        };
        if !decl.is_array() {
            return Err(AppError::validation(
                key.clone(),
                format!("`{op}` needs an array field; `{key}` is not one"),
            ));
        }
        if decl.many && !values_of(value).iter().all(Value::is_string) {
            return Err(AppError::validation(
                key.clone(),
                format!("`{key}` holds user ids (strings)"),
            ));
        }
    }
    Ok(())
}

/// A form field's text as the value its declared type wants (multipart
/// bodies carry every value as text): numbers and booleans parsed, JSON and
/// lists decoded, `""` clearing a list; undeclared keys stay text.
pub fn from_form_text(collection: &Collection, key: &str, text: &str) -> Value {
    use super::collections::FieldType as T;
    let Some(decl) = collection.field(key) else {
        return Value::String(text.to_owned());
    };
    let t = text.trim();
    match decl.field_type {
        T::Number => serde_json::from_str::<serde_json::Number>(t)
            .map(Value::Number)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        T::Bool => match t {
            "true" | "1" => Value::Bool(true),
            "false" | "0" | "" => Value::Bool(false),
            _ => Value::String(text.to_owned()),
        },
        T::Json => serde_json::from_str(t).unwrap_or_else(|_| Value::String(text.to_owned())),
        T::Relation | T::File if decl.many => match serde_json::from_str::<Value>(t) {
            Ok(v @ Value::Array(_)) => v,
            _ if t.is_empty() => Value::Array(vec![]),
            _ => Value::Array(vec![Value::String(t.to_owned())]),
        },
        _ => Value::String(text.to_owned()),
    }
}

/// `$append: {"tags": "a"}` adds one value; `{"tags": ["a","b"]}` adds each.
pub fn values_of(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::collections::{CollectionSettings, FieldDecl, FieldType};
    use serde_json::json;

    fn coll(allow: bool) -> Collection {
        Collection {
            id: "c".into(),
            project_id: "p".into(),
            name: "users".into(),
            settings: CollectionSettings {
                allow_undeclared_fields: allow,
                ..Default::default()
            },
            fields: vec![
                FieldDecl {
                    name: "age".into(),
                    field_type: FieldType::Number,
                    collection: None,
                    many: false,
                    indexed: false,
                    unique: false,
                    required: true,
                    public: false,
                    ..FieldDecl::default()
                },
                FieldDecl {
                    name: "following".into(),
                    field_type: FieldType::Relation,
                    collection: Some("users".into()),
                    many: true,
                    indexed: false,
                    unique: false,
                    required: false,
                    public: false,
                    ..FieldDecl::default()
                },
            ],
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reserved_and_malformed_keys_are_refused() {
        let c = coll(true);
        for bad in [
            json!({"roles": ["admin"]}),
            json!({"verified": true}),
            json!({"a b": 1}),
            json!({"": 1}),
        ] {
            assert!(check_values(&c, &map(bad)).is_err());
        }
    }

    #[test]
    fn declared_types_required_and_undeclared_are_enforced() {
        assert!(check_new_profile(&coll(true), &map(json!({"age": 3, "x": "y"}))).is_ok());
        assert_eq!(
            check_new_profile(&coll(true), &map(json!({"x": 1})))
                .unwrap_err()
                .field(),
            Some("age")
        );
        assert!(check_values(&coll(true), &map(json!({"age": "three"}))).is_err());
        assert!(check_values(&coll(false), &map(json!({"x": 1}))).is_err());
        assert!(check_array_ops(&coll(true), &map(json!({"age": 1})), "$append").is_err());
        assert!(check_array_ops(&coll(true), &map(json!({"following": 1})), "$append").is_err());
        assert!(
            check_array_ops(&coll(true), &map(json!({"following": ["u1"]})), "$append").is_ok()
        );
    }

    #[test]
    fn oversized_profiles_are_refused() {
        let big = json!({"bio": "x".repeat(MAX_PROFILE_BYTES)});
        assert!(matches!(
            check_size(&big),
            Err(AppError::PayloadTooLarge(_))
        ));
    }
}
