//! One user store behind four front doors: GraphQL, Cocobase, PocketBase and
//! urBackend each see the same users, whichever door created or changed them.
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::helpers::{ReplyExt, TestApp};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new password";

/// What every door must agree on: id, email, profile and creation instant.
#[derive(Debug, PartialEq)]
struct Seen {
    id: String,
    email: String,
    profile: Value,
    created_ms: i64,
}

fn millis(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a date: {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.timestamp_millis())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3fZ")
                .map(|d| d.and_utc().timestamp_millis())
        })
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The profile of a flat document: every key but the listed account keys.
fn flat_profile(doc: &Value, account: &[&str]) -> Value {
    let m: Map<String, Value> = doc
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !account.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(m)
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Door {
    GraphQl,
    Cocobase,
    PocketBase,
    UrBackend,
}

pub(crate) const DOORS: [Door; 4] = [
    Door::GraphQl,
    Door::Cocobase,
    Door::PocketBase,
    Door::UrBackend,
];

/// Creates a user through a door with `{name, city}` as its profile; returns its id.
async fn create(app: &TestApp, door: Door, email: &str, profile: &Value) -> String {
    let mut flat = json!({"email": email, "password": PW});
    flat.as_object_mut()
        .unwrap()
        .extend(profile.as_object().unwrap().clone());
    match door {
        Door::GraphQl => {
            let res = app.sign_up(email, PW, profile.clone()).await;
            res["data"]["signUp"]["user"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{res}"))
                .to_owned()
        }
        Door::Cocobase => {
            // The REST docs' flat form.
            let res = app
                .rest(Method::POST, "/auth-collections/signup")
                .header("x-api-key", &app.pk)
                .json(&flat)
                .reply()
                .await;
            assert_eq!(res.status, 200, "{}", res.body);
            res.body["user"]["id"].as_str().unwrap().to_owned()
        }
        Door::PocketBase => {
            flat["passwordConfirm"] = json!(PW);
            let res = app
                .rest(Method::POST, "/api/collections/users/records")
                .json(&flat)
                .reply()
                .await;
            assert_eq!(res.status, 200, "{}", res.body);
            res.body["id"].as_str().unwrap().to_owned()
        }
        Door::UrBackend => {
            let res = app
                .rest(Method::POST, "/api/userAuth/signup")
                .header("x-api-key", &app.pk)
                .json(&flat)
                .reply()
                .await;
            assert_eq!(res.status, 201, "{}", res.body);
            res.body["userId"].as_str().unwrap().to_owned()
        }
    }
}

/// Logs in through a door with `password` and reads the user back the way
/// that door's SDK does.
async fn read(app: &TestApp, door: Door, email: &str, password: &str) -> Seen {
    match door {
        Door::GraphQl => {
            let login = app.log_in(email, password).await;
            let token = login["data"]["logIn"]["token"]
                .as_str()
                .unwrap_or_else(|| panic!("{door:?} {email}: {login}"));
            let me = app
                .gql(
                    None,
                    Some(token),
                    "{ me { id email data createdAt } }",
                    json!({}),
                )
                .await;
            let me = &me["data"]["me"];
            Seen {
                id: me["id"].as_str().unwrap().to_owned(),
                email: me["email"].as_str().unwrap().to_owned(),
                profile: me["data"].clone(),
                created_ms: millis(&me["createdAt"]),
            }
        }
        Door::Cocobase => {
            let login = app
                .rest(Method::POST, "/auth-collections/login")
                .header("x-api-key", &app.pk)
                .json(&json!({"email": email, "password": password}))
                .reply()
                .await;
            assert_eq!(login.status, 200, "{door:?} {email}: {}", login.body);
            let me = app
                .rest(Method::GET, "/auth-collections/user")
                .header("x-api-key", &app.pk)
                .bearer_auth(login.body["access_token"].as_str().unwrap())
                .reply()
                .await;
            assert_eq!(me.body, login.body["user"]);
            Seen {
                id: me.body["id"].as_str().unwrap().to_owned(),
                email: me.body["email"].as_str().unwrap().to_owned(),
                profile: me.body["data"].clone(),
                created_ms: millis(&me.body["created_at"]),
            }
        }
        Door::PocketBase => {
            let login = app
                .rest(Method::POST, "/api/collections/users/auth-with-password")
                .json(&json!({"identity": email, "password": password}))
                .reply()
                .await;
            assert_eq!(login.status, 200, "{door:?} {email}: {}", login.body);
            let id = login.body["record"]["id"].as_str().unwrap();
            let record = app
                .rest(Method::GET, &format!("/api/collections/users/records/{id}"))
                .header("authorization", login.body["token"].as_str().unwrap())
                .reply()
                .await;
            assert_eq!(record.body, login.body["record"]);
            let r = &record.body;
            Seen {
                id: id.to_owned(),
                email: r["email"].as_str().unwrap().to_owned(),
                profile: flat_profile(
                    r,
                    &[
                        "id",
                        "collectionId",
                        "collectionName",
                        "created",
                        "updated",
                        "email",
                        "emailVisibility",
                        "verified",
                    ],
                ),
                created_ms: millis(&r["created"]),
            }
        }
        Door::UrBackend => {
            let login = app
                .rest(Method::POST, "/api/userAuth/login")
                .header("x-api-key", &app.pk)
                .json(&json!({"email": email, "password": password}))
                .reply()
                .await;
            assert_eq!(login.status, 200, "{door:?} {email}: {}", login.body);
            let me = app
                .rest(Method::GET, "/api/userAuth/me")
                .header("x-api-key", &app.pk)
                .bearer_auth(login.body["accessToken"].as_str().unwrap())
                .reply()
                .await;
            let d = &me.body;
            Seen {
                id: d["_id"].as_str().unwrap().to_owned(),
                email: d["email"].as_str().unwrap().to_owned(),
                profile: flat_profile(d, &["_id", "email", "isVerified", "createdAt", "updatedAt"]),
                created_ms: millis(&d["createdAt"]),
            }
        }
    }
}

#[tokio::test]
async fn a_user_created_through_any_door_reads_the_same_through_the_other_three() {
    let app = TestApp::spawn().await;
    for (i, door) in DOORS.into_iter().enumerate() {
        let email = format!("user{i}@example.com");
        let profile = json!({"name": format!("{door:?}"), "city": "Oslo", "age": 30 + i});
        let id = create(&app, door, &email, &profile).await;
        let own = read(&app, door, &email, PW).await;
        assert_eq!(
            (&own.id, &own.email, &own.profile),
            (&id, &email, &profile),
            "{door:?} reading its own user"
        );
        for reader in DOORS {
            let seen = read(&app, reader, &email, PW).await;
            assert_eq!(seen, own, "created by {door:?}, read by {reader:?}");
        }
    }
}

#[tokio::test]
async fn a_change_through_one_door_is_seen_through_the_others() {
    let app = TestApp::spawn().await;
    let email = "ann@example.com";
    let id = create(&app, Door::UrBackend, email, &json!({"name": "Ann"})).await;

    // PocketBase changes a field.
    let login = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": email, "password": PW}))
        .reply()
        .await;
    let pb_token = login.body["token"].as_str().unwrap();
    let res = app
        .rest(
            Method::PATCH,
            &format!("/api/collections/users/records/{id}"),
        )
        .header("authorization", pb_token)
        .json(&json!({"name": "Ann B", "tags": ["a"]}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // Cocobase appends to the array.
    let login = app
        .rest(Method::POST, "/auth-collections/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": email, "password": PW}))
        .reply()
        .await;
    let res = app
        .rest(Method::PATCH, "/auth-collections/user")
        .bearer_auth(login.body["access_token"].as_str().unwrap())
        .json(&json!({"$append": {"tags": "b"}}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // urBackend changes the password.
    let login = app
        .rest(Method::POST, "/api/userAuth/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": email, "password": PW}))
        .reply()
        .await;
    let res = app
        .rest(Method::PUT, "/api/userAuth/change-password")
        .header("x-api-key", &app.pk)
        .bearer_auth(login.body["accessToken"].as_str().unwrap())
        .json(&json!({"currentPassword": PW, "newPassword": NEW_PW}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // Every door sees the result and takes only the new password.
    let want = json!({"name": "Ann B", "tags": ["a", "b"]});
    for door in DOORS {
        let seen = read(&app, door, email, NEW_PW).await;
        assert_eq!((&seen.id, &seen.profile), (&id, &want), "{door:?}");
    }
    assert_eq!(app.log_in(email, PW).await["data"]["logIn"], Value::Null);
    let old = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": email, "password": PW}))
        .reply()
        .await;
    assert_eq!(old.status, 400, "{}", old.body);
}
