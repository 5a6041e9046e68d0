//! Users and superusers as PocketBase records, and the record keys a body may set.
use serde_json::{Map, Value, json};

use super::call::Result;
use super::call::{SUPERUSERS, SUPERUSERS_ID};
use crate::domain::collections::{Collection, FieldType};
use crate::domain::superusers::Superuser;
use crate::domain::users::User;
use crate::error::AppError;

/// PocketBase's date format: `2026-11-21 22:39:59.705Z`.
pub fn pb_date(t: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // Written out rather than through a format string, which chrono parses on
    // every call (it showed in the list profile: two dates per record).
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond().min(999_999_999) / 1_000_000
    )
}

#[cfg(test)]
mod date_tests {
    #[test]
    fn dates_are_written_as_pocketbase_writes_them() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678901Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(super::pb_date(t), "2026-01-02 03:04:05.678Z");
        assert_eq!(
            super::pb_date(t),
            t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string()
        );
    }
}

/// A user as a PocketBase record. The email is shown to its owner, to
/// superusers, or when the user made it visible.
pub fn record_json(u: &User, c: &Collection, show_email: bool) -> Value {
    let mut r = Map::new();
    // Declared fields are always present, with PocketBase's empty values.
    for f in &c.fields {
        let empty = match (f.field_type, f.many) {
            (FieldType::Number, _) => json!(0),
            (FieldType::Bool, _) => json!(false),
            (FieldType::Json, _) => Value::Null,
            (FieldType::Relation | FieldType::File, true) => json!([]),
            _ => json!(""),
        };
        r.insert(f.name.clone(), empty);
    }
    let mut visible = false;
    if let Some(profile) = u.data.as_object() {
        for (k, v) in profile {
            if k == "emailVisibility" {
                visible = v.as_bool().unwrap_or(false);
                continue;
            }
            r.insert(k.clone(), v.clone());
        }
    }
    r.insert("id".into(), json!(u.id));
    r.insert("collectionId".into(), json!(c.id));
    r.insert("collectionName".into(), json!(c.name));
    r.insert("created".into(), json!(pb_date(u.created_at)));
    r.insert("updated".into(), json!(pb_date(u.updated_at)));
    if show_email || visible {
        r.insert("email".into(), json!(u.email));
    }
    r.insert("emailVisibility".into(), json!(visible));
    r.insert("verified".into(), json!(u.verified));
    Value::Object(r)
}

pub fn superuser_json(su: &Superuser) -> Value {
    json!({
        "id": su.id,
        "collectionId": SUPERUSERS_ID,
        "collectionName": SUPERUSERS,
        "email": su.email,
        "emailVisibility": false,
        "verified": true,
        "created": pb_date(su.created_at),
        "updated": pb_date(su.updated_at),
    })
}

/// Record keys the server owns; clients echo them back and they are ignored.
const SYSTEM_KEYS: &[&str] = &[
    "id",
    "collectionId",
    "collectionName",
    "created",
    "updated",
    "expand",
    "verified",
    "tokenKey",
];

const PASSWORD_KEYS: &[&str] = &["password", "passwordConfirm", "oldPassword"];

pub fn profile_fields(body: &Map<String, Value>) -> Result<Map<String, Value>> {
    let mut data = Map::new();
    for (k, v) in body {
        if SYSTEM_KEYS.contains(&k.as_str()) || PASSWORD_KEYS.contains(&k.as_str()) || k == "email"
        {
            continue;
        }
        if k == "emailVisibility" && !v.is_boolean() {
            return Err(AppError::validation("emailVisibility", "Must be a boolean.").into());
        }
        data.insert(k.clone(), v.clone());
    }
    Ok(data)
}
