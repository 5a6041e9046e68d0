//! Files through GraphQL: the multipart request spec (an `operations` part,
//! a `map` part, one part per file) on `signUp`, `updateMe` and `updateUser`,
//! `User.files` with URLs, limits as GraphQL errors with stable codes, and
//! nothing left in storage when a change fails.
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::files_cocobase::{app_with, objects};
use crate::files_pocketbase::{PNG, PROJECT};
use crate::helpers::{TestApp, error_code};
use crate::subscriptions::{next, subscribe};

const PW: &str = "correct horse battery";

const SIGN_UP: &str = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id data files { field name url size contentType protected } } } }";
const UPDATE_ME: &str = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { id data files { field name url size contentType } } }";
const UPDATE_USER: &str = "mutation($id: String!, $i: UpdateMeInput!) { updateUser(id: $id, input: $i) { id data files { field name } } }";

/// One file of a request: the field, its bytes, the client's name.
struct Upload<'a>(&'a str, &'a [u8], &'a str);

/// A GraphQL multipart request: `variables.i.files` lists `uploads`, each
/// `file` null in `operations` and mapped to its part.
async fn gql_files(
    app: &TestApp,
    auth: (&str, &str),
    query: &str,
    mut variables: Value,
    uploads: &[Upload<'_>],
) -> (u16, Value) {
    let mut map = serde_json::Map::new();
    let mut listed = vec![];
    for (i, Upload(field, _, _)) in uploads.iter().enumerate() {
        listed.push(json!({"field": field.trim_end_matches('+'), "file": null, "append": field.ends_with('+')}));
        map.insert(
            i.to_string(),
            json!([format!("variables.i.files.{i}.file")]),
        );
    }
    variables["i"]["files"] = Value::Array(listed);
    let operations = json!({"query": query, "variables": variables});
    let mut form = Form::new()
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string());
    for (i, Upload(_, bytes, name)) in uploads.iter().enumerate() {
        let part = Part::bytes(bytes.to_vec()).file_name(name.to_string());
        form = form.part(i.to_string(), part);
    }
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .header(auth.0, auth.1)
        .multipart(form)
        .send()
        .await
        .expect("request sent");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("a JSON answer");
    (status, body)
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

async fn sign_up(app: &TestApp, email: &str, uploads: &[Upload<'_>]) -> (u16, Value) {
    let vars = json!({"i": {"email": email, "password": PW, "data": {"name": "Ann"}}});
    gql_files(app, ("x-api-key", &app.pk), SIGN_UP, vars, uploads).await
}

async fn update_me(app: &TestApp, token: &str, input: Value, uploads: &[Upload<'_>]) -> Value {
    let auth = bearer(token);
    let (status, body) = gql_files(
        app,
        (auth.0, &auth.1),
        UPDATE_ME,
        json!({ "i": input }),
        uploads,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn sign_up_with_an_avatar_then_replace_and_clear_it_through_update_me() {
    let app = app_with(PROJECT).await;
    let (status, res) = sign_up(&app, "ann@example.com", &[Upload("avatar", PNG, "Me.png")]).await;
    assert_eq!(status, 200, "{res}");
    let payload = &res["data"]["signUp"];
    let token = payload["token"].as_str().expect("a token").to_owned();
    let user = &payload["user"];
    assert_eq!(user["data"]["name"], "Ann");
    let name = user["data"]["avatar"].as_str().unwrap().to_owned();
    assert!(name.starts_with("me_") && name.ends_with(".png"), "{name}");
    let files = user["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{user}");
    assert_eq!(files[0]["field"], "avatar");
    assert_eq!(files[0]["name"], name.as_str());
    assert_eq!(files[0]["size"], PNG.len());
    assert_eq!(files[0]["contentType"], "image/png");
    assert_eq!(files[0]["protected"], false);
    let url = files[0]["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("/api/files/users/{}/{name}", user["id"].as_str().unwrap())
    );
    let got = app
        .http
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);
    let first = objects(&app).await;
    assert_eq!(first.len(), 1);

    // Replace: the new object is stored, the old one is gone.
    let res = update_me(&app, &token, json!({}), &[Upload("avatar", PNG, "new.png")]).await;
    let me = &res["data"]["updateMe"];
    let renamed = me["data"]["avatar"].as_str().expect("{res}").to_owned();
    assert!(renamed.starts_with("new_"), "{renamed}");
    assert_eq!(me["files"][0]["name"], renamed.as_str());
    let second = objects(&app).await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    let old = app
        .http
        .get(format!("{}{url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);

    // Two files for a field of many, then one more appended.
    let res = update_me(
        &app,
        &token,
        json!({}),
        &[Upload("docs", PNG, "a.png"), Upload("docs", PNG, "b.png")],
    )
    .await;
    assert_eq!(
        res["data"]["updateMe"]["data"]["docs"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{res}"
    );
    let res = update_me(&app, &token, json!({}), &[Upload("docs+", PNG, "c.png")]).await;
    assert_eq!(
        error_code(&res),
        Some("VALIDATION"),
        "max_select is 2: {res}"
    );
    assert_eq!(objects(&app).await.len(), 3);

    // Clear with null: the field empties and its object goes.
    let res = update_me(
        &app,
        &token,
        json!({"data": {"avatar": null, "docs": null}}),
        &[],
    )
    .await;
    let me = &res["data"]["updateMe"];
    assert_eq!(me["data"]["avatar"], "", "{res}");
    assert_eq!(me["files"], json!([]));
    assert!(objects(&app).await.is_empty());
}

#[tokio::test]
async fn files_over_their_limits_are_refused_with_stable_codes_and_nothing_stored() {
    let app = app_with(PROJECT).await;
    let (token, _) = app.user("big@example.com").await;
    // Over the field's own limit (tiny: 1 KiB), within the project's largest.
    let mut big = PNG.to_vec();
    big.resize(4096, 0);
    let res = update_me(&app, &token, json!({}), &[Upload("tiny", &big, "big.png")]).await;
    assert_eq!(error_code(&res), Some("FILE_TOO_LARGE"), "{res}");
    assert_eq!(res["errors"][0]["extensions"]["field"], "tiny");
    assert!(res["data"].is_null(), "{res}");
    assert!(objects(&app).await.is_empty());

    // A file that fails halfway leaves nothing of the files before it.
    let res = update_me(
        &app,
        &token,
        json!({"data": {"city": "Oslo"}}),
        &[
            Upload("avatar", PNG, "ok.png"),
            Upload("tiny", &big, "big.png"),
        ],
    )
    .await;
    assert_eq!(error_code(&res), Some("FILE_TOO_LARGE"), "{res}");
    assert!(objects(&app).await.is_empty());
    let me = app.me(&token).await;
    assert!(me["data"]["me"]["data"]["city"].is_null(), "{me}");
}

#[tokio::test]
async fn a_file_over_the_largest_the_project_accepts_is_a_413_before_it_is_read_whole() {
    let strict = r#"
[project]
slug = "default"

[[collections]]
name = "users"
allow_undeclared_fields = false

[[collections.fields]]
name = "tiny"
type = "file"
max_size = 1024
"#;
    let app = app_with(strict).await;
    let (token, _) = app.user("huge@example.com").await;
    // The largest part is the JSON body limit (256 KiB in tests) here.
    let mut huge = PNG.to_vec();
    huge.resize(400 * 1024, 0);
    let auth = bearer(&token);
    let (status, res) = gql_files(
        &app,
        (auth.0, &auth.1),
        UPDATE_ME,
        json!({"i": {}}),
        &[Upload("tiny", &huge, "huge.png")],
    )
    .await;
    assert_eq!(status, 413, "{res}");
    assert_eq!(error_code(&res), Some("FILE_TOO_LARGE"), "{res}");
    assert!(objects(&app).await.is_empty());

    // A JSON request keeps the JSON limit, in GraphQL's error shape.
    let huge_json = json!({"query": "{ me { id } }", "variables": {"x": "z".repeat(300 * 1024)}});
    let res = app
        .http
        .post(format!("{}/graphql", app.base))
        .json(&huge_json)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), Some("PAYLOAD_TOO_LARGE"), "{body}");
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_and_undeclared_fields_take_the_defaults() {
    let app = app_with(PROJECT).await;
    let (status, res) = sign_up(
        &app,
        "fake@example.com",
        &[Upload(
            "avatar",
            b"<html><script>alert(1)</script></html>",
            "cat.png",
        )],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
    assert_eq!(res["errors"][0]["extensions"]["field"], "avatar");
    assert!(objects(&app).await.is_empty());
    // The failed sign-up created nobody.
    let again = app.sign_up("fake@example.com", PW, json!({})).await;
    assert!(again["data"]["signUp"]["token"].is_string(), "{again}");

    // An undeclared key (the collection accepts them) holds one file.
    let (status, res) = sign_up(&app, "cv@example.com", &[Upload("cover", PNG, "c.png")]).await;
    assert_eq!(status, 200, "{res}");
    let user = &res["data"]["signUp"]["user"];
    assert_eq!(user["files"][0]["field"], "cover", "{res}");
    assert!(user["data"]["cover"].as_str().unwrap().ends_with(".png"));
}

#[tokio::test]
async fn another_users_record_takes_the_secret_key_and_foreign_names_are_refused() {
    let app = app_with(PROJECT).await;
    let (status, res) = sign_up(&app, "owner@example.com", &[Upload("avatar", PNG, "o.png")]).await;
    assert_eq!(status, 200, "{res}");
    let owner = res["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owners_file = res["data"]["signUp"]["user"]["data"]["avatar"]
        .as_str()
        .unwrap()
        .to_owned();
    let (token, _) = app.user("intruder@example.com").await;
    let vars = json!({"id": owner, "i": {}});
    let upload = [Upload("avatar", PNG, "x.png")];
    let auth = bearer(&token);
    for auth in [(auth.0, auth.1.as_str()), ("x-api-key", app.pk.as_str())] {
        let (status, res) = gql_files(&app, auth, UPDATE_USER, vars.clone(), &upload).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&res), Some("FORBIDDEN"), "{res}");
    }
    assert_eq!(objects(&app).await.len(), 1);

    // Naming the owner's file in one's own profile is refused.
    let res = app
        .update_me(&token, json!({"data": {"avatar": owners_file}}))
        .await;
    assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");

    // The secret key replaces the owner's file.
    let (status, res) = gql_files(&app, ("x-api-key", &app.sk), UPDATE_USER, vars, &upload).await;
    assert_eq!(status, 200, "{res}");
    let updated = &res["data"]["updateUser"];
    assert_eq!(updated["id"], owner.as_str(), "{res}");
    let name = updated["data"]["avatar"].as_str().unwrap();
    assert!(name.starts_with("x_"), "{name}");
    assert_eq!(updated["files"][0]["name"], name);
    assert_eq!(objects(&app).await.len(), 1);

    // The intruder's public view of the owner (through a relation) shows
    // the public avatar only, not the protected file.
    let secret = [Upload("secret", PNG, "s.png")];
    let (status, res) = gql_files(
        &app,
        ("x-api-key", &app.sk),
        UPDATE_USER,
        json!({"id": owner, "i": {}}),
        &secret,
    )
    .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(
        res["data"]["updateUser"]["files"].as_array().unwrap().len(),
        2,
        "{res}"
    );
    let res = app
        .update_me(&token, json!({"data": {"referred_by": owner}}))
        .await;
    assert!(res["errors"].is_null(), "{res}");
    let q = "{ me { referredBy { email files { field name } } } }";
    let seen = app.gql(None, Some(&token), q, json!({})).await;
    assert!(
        seen["data"]["me"]["referredBy"]["email"].is_null(),
        "{seen}"
    );
    let files = &seen["data"]["me"]["referredBy"]["files"];
    assert_eq!(files, &json!([{"field": "avatar", "name": name}]), "{seen}");
}

#[tokio::test]
async fn a_subscription_sees_an_uploaded_file() {
    let app = app_with(PROJECT).await;
    let (token, _) = app.user("watch-files@example.com").await;
    let mut ws = subscribe(
        &app,
        json!({"authorization": format!("Bearer {token}")}),
        "subscription { userChanged { data files { field name size } } }",
        json!({}),
    )
    .await;
    let res = update_me(
        &app,
        &token,
        json!({}),
        &[Upload("avatar", PNG, "live.png")],
    )
    .await;
    let name = res["data"]["updateMe"]["data"]["avatar"]
        .as_str()
        .expect("{res}");
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    let changed = &msg["payload"]["data"]["userChanged"];
    assert_eq!(changed["data"]["avatar"], name, "{msg}");
    assert_eq!(
        changed["files"],
        json!([{"field": "avatar", "name": name, "size": PNG.len()}])
    );
    ws.close(None).await.ok();
}
