//! Cocobase's documented REST URLs: `/auth-collections/*` and `/auth/register`,
//! errors as FastAPI's `{"detail": …}`.
use authgraph::domain::{apply, projects};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{Reply, ReplyExt, TestApp, jwt_payload, keys, with_query};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new password";
const USER_KEYS: [&str; 8] = [
    "client_id",
    "created_at",
    "data",
    "email",
    "id",
    "roles",
    "updated_at",
    "verified",
];

/// A request carrying the publishable key, as every SDK call does.
fn coco(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.rest(method, path).header("x-api-key", &app.pk)
}

async fn signup(app: &TestApp, body: Value) -> Reply {
    coco(app, Method::POST, "/auth-collections/signup")
        .json(&body)
        .reply()
        .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    coco(app, Method::POST, "/auth-collections/login")
        .json(&json!({"email": email, "password": password}))
        .reply()
        .await
}

/// Signs up and returns (access token, user id).
async fn signed_up(app: &TestApp, email: &str, data: Value) -> (String, String) {
    let res = signup(app, json!({"email": email, "password": PW, "data": data})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    (
        res.body["access_token"].as_str().unwrap().to_owned(),
        res.body["user"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn current_user(app: &TestApp, token: &str) -> Reply {
    app.rest(Method::GET, "/auth-collections/user")
        .bearer_auth(token)
        .reply()
        .await
}

async fn update(app: &TestApp, method: Method, token: &str, body: Value) -> Reply {
    app.rest(method, "/auth-collections/user")
        .bearer_auth(token)
        .json(&body)
        .reply()
        .await
}

/// `GET /auth-collections/users` with the secret key.
async fn list(app: &TestApp, query: &[(&str, &str)]) -> Reply {
    app.rest(Method::GET, &with_query("/auth-collections/users", query))
        .header("x-api-key", &app.sk)
        .reply()
        .await
}

fn emails(res: &Reply) -> Vec<&str> {
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect()
}

/// The single FastAPI validation error of a 422: (loc, msg).
fn detail_422(res: &Reply) -> (Value, String) {
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(keys(&res.body), ["detail"], "{}", res.body);
    let list = res.body["detail"].as_array().expect("detail is a list");
    assert_eq!(list.len(), 1, "{}", res.body);
    assert_eq!(keys(&list[0]), ["loc", "msg", "type"], "{}", res.body);
    let msg = list[0]["msg"].as_str().unwrap().to_owned();
    assert!(!msg.is_empty());
    assert!(!list[0]["type"].as_str().unwrap().is_empty());
    (list[0]["loc"].clone(), msg)
}

fn assert_iso(ts: &Value) {
    let s = ts.as_str().unwrap_or_else(|| panic!("not a string: {ts}"));
    assert!(s.ends_with('Z'), "{s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
}

/// Gives a user roles directly in the database (no API sets roles).
async fn set_roles(app: &TestApp, id: &str, roles: Value) {
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let model = entity::user::Entity::find_by_id(id)
        .one(&app.services.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: entity::user::ActiveModel = model.into();
    active.roles = Set(roles);
    active.update(&app.services.db).await.unwrap();
}

#[tokio::test]
async fn signup_puts_flat_and_nested_profile_fields_under_data_and_answers_the_documented_keys() {
    let app = TestApp::spawn().await;
    let res = signup(
        &app,
        json!({
            "email": "ann@example.com",
            "password": PW,
            "name": "Ann",
            "age": 30,
            "data": {"city": "Paris", "tags": ["a"]},
            "roles": ["admin"],
        }),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["access_token", "token_type", "user"]);
    assert_eq!(res.body["token_type"], "bearer");
    let user = &res.body["user"];
    assert_eq!(keys(user), USER_KEYS);
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(
        user["data"],
        json!({"name": "Ann", "age": 30, "city": "Paris", "tags": ["a"]})
    );
    // Roles are an administrator's decision: self-assigned ones are ignored.
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user["verified"], false);
    let default = projects::find_by_slug(&app.services.db, "default")
        .await
        .unwrap();
    assert_eq!(user["client_id"], default.id);
    assert_iso(&user["created_at"]);
    assert_iso(&user["updated_at"]);

    // The token is a JWT whose `exp` is about the documented 30 days away.
    let claims = jwt_payload(res.body["access_token"].as_str().unwrap());
    let exp = claims["exp"].as_i64().expect("numeric exp");
    let left = exp - chrono::Utc::now().timestamp();
    assert!((left - 30 * 24 * 3600).abs() < 300, "exp in {left} s");

    // Nested `data` only (the SDK's form), and no profile at all.
    let nested = signup(
        &app,
        json!({"email": "bob@example.com", "password": PW, "data": {"name": "Bob"}}),
    )
    .await;
    assert_eq!(nested.status, 200, "{}", nested.body);
    assert_eq!(nested.body["user"]["data"], json!({"name": "Bob"}));
    let bare = signup(&app, json!({"email": "cy@example.com", "password": PW})).await;
    assert_eq!(bare.status, 200, "{}", bare.body);
    assert_eq!(bare.body["user"]["data"], json!({}));
}

#[tokio::test]
async fn signup_also_takes_the_key_as_a_bearer_and_needs_one() {
    let app = TestApp::spawn().await;
    let res = app
        .rest(Method::POST, "/auth-collections/signup")
        .bearer_auth(&app.pk)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["user"]["email"], "ann@example.com");

    let keyless = app
        .rest(Method::POST, "/auth-collections/signup")
        .json(&json!({"email": "bob@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(keyless.status, 401, "{}", keyless.body);
    assert_eq!(keyless.body, json!({"detail": "Not authenticated"}));
    assert_eq!(login(&app, "bob@example.com", PW).await.status, 401);
}

#[tokio::test]
async fn login_answers_like_signup_and_its_token_reads_the_current_user() {
    let app = TestApp::spawn().await;
    let (_, id) = signed_up(&app, "ann@example.com", json!({"name": "Ann"})).await;
    let res = login(&app, "ANN@example.com", PW).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["access_token", "token_type", "user"]);
    assert_eq!(res.body["token_type"], "bearer");
    assert_eq!(keys(&res.body["user"]), USER_KEYS);
    assert_eq!(res.body["user"]["id"], id);
    assert_eq!(res.body["user"]["data"], json!({"name": "Ann"}));
    let token = res.body["access_token"].as_str().unwrap();

    let me = current_user(&app, token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(keys(&me.body), USER_KEYS);
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["email"], "ann@example.com");
    assert_eq!(me.body["data"], json!({"name": "Ann"}));

    // A logged-in SDK sends the key and the token together.
    let both = coco(&app, Method::GET, "/auth-collections/user")
        .bearer_auth(token)
        .reply()
        .await;
    assert_eq!(both.status, 200, "{}", both.body);
    assert_eq!(both.body["id"], id);
}

#[tokio::test]
async fn a_wrong_password_or_an_unknown_email_is_401_invalid_email_or_password() {
    let app = TestApp::spawn().await;
    signed_up(&app, "ann@example.com", json!({})).await;
    for (email, pw) in [
        ("ann@example.com", "not the password"),
        ("nobody@example.com", PW),
    ] {
        let res = login(&app, email, pw).await;
        assert_eq!(res.status, 401, "{email}: {}", res.body);
        assert_eq!(res.body, json!({"detail": "Invalid email or password"}));
    }
}

#[tokio::test]
async fn signing_up_an_existing_email_in_any_case_is_400_email_already_registered() {
    let app = TestApp::spawn().await;
    signed_up(&app, "ann@example.com", json!({})).await;
    let res = signup(
        &app,
        json!({"email": "ANN@Example.com", "password": "another password"}),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_eq!(res.body, json!({"detail": "Email already registered"}));
    // The first account keeps its password.
    assert_eq!(login(&app, "ann@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn an_invalid_email_or_a_short_or_missing_password_is_422_with_a_fastapi_detail_list() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({"email": "not-an-email", "password": PW}), "email"),
        (
            json!({"email": "x@example.com", "password": "short"}),
            "password",
        ),
        (json!({"email": "x@example.com"}), "password"),
        (json!({"password": PW}), "email"),
    ] {
        let res = signup(&app, body.clone()).await;
        let (loc, _) = detail_422(&res);
        assert_eq!(loc, json!(["body", field]), "{body}");
    }
    // Nothing was created.
    assert_eq!(login(&app, "x@example.com", PW).await.status, 401);
}

#[tokio::test]
async fn the_current_user_needs_a_valid_token() {
    let app = TestApp::spawn().await;
    let none = app
        .rest(Method::GET, "/auth-collections/user")
        .reply()
        .await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.body, json!({"detail": "Not authenticated"}));
    // A key alone names the project but no user.
    let key_only = coco(&app, Method::GET, "/auth-collections/user")
        .reply()
        .await;
    assert_eq!(key_only.status, 401, "{}", key_only.body);
    let garbage = current_user(&app, "not.a.token").await;
    assert_eq!(garbage.status, 401, "{}", garbage.body);
    assert_eq!(
        garbage.body,
        json!({"detail": "Invalid token or token expired"})
    );
}

#[tokio::test]
async fn put_and_patch_merge_flat_or_nested_profile_fields() {
    let app = TestApp::spawn().await;
    let (token, id) = signed_up(&app, "ann@example.com", json!({"name": "Ann", "age": 30})).await;

    // PUT with flat fields (the REST docs' form).
    let put = update(
        &app,
        Method::PUT,
        &token,
        json!({"name": "Ann B", "bio": "dev"}),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(keys(&put.body), USER_KEYS);
    assert_eq!(put.body["id"], id);
    assert_eq!(
        put.body["data"],
        json!({"name": "Ann B", "age": 30, "bio": "dev"})
    );

    // PATCH with nested data (the SDK's form) merges too.
    let patch = update(
        &app,
        Method::PATCH,
        &token,
        json!({"data": {"city": "Rome", "age": 31}}),
    )
    .await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    assert_eq!(
        patch.body["data"],
        json!({"name": "Ann B", "age": 31, "bio": "dev", "city": "Rome"})
    );
    let me = current_user(&app, &token).await;
    assert_eq!(me.body["data"], patch.body["data"]);

    // Without a token nothing changes.
    let anon = app
        .rest(Method::PATCH, "/auth-collections/user")
        .header("x-api-key", &app.pk)
        .json(&json!({"data": {"city": "Oslo"}}))
        .reply()
        .await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    assert_eq!(
        current_user(&app, &token).await.body["data"]["city"],
        "Rome"
    );
}

#[tokio::test]
async fn append_and_remove_work_at_the_top_level_and_inside_data() {
    let app = TestApp::spawn().await;
    let (token, _) = signed_up(&app, "ann@example.com", json!({"tags": ["a"]})).await;

    let res = update(
        &app,
        Method::PATCH,
        &token,
        json!({"$append": {"tags": ["b", "c"]}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["tags"], json!(["a", "b", "c"]));

    let res = update(
        &app,
        Method::PATCH,
        &token,
        json!({"data": {"$remove": {"tags": "b"}}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["tags"], json!(["a", "c"]));

    // Inside `data` beside ordinary fields; a missing array is created.
    let res = update(
        &app,
        Method::PATCH,
        &token,
        json!({"data": {"$append": {"following": "u1"}, "name": "Ann"}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["data"],
        json!({"tags": ["a", "c"], "following": ["u1"], "name": "Ann"})
    );

    let res = update(
        &app,
        Method::PUT,
        &token,
        json!({"$remove": {"following": ["u1"]}}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["following"], json!([]));

    let bad = update(&app, Method::PATCH, &token, json!({"$append": "tags"})).await;
    let (loc, _) = detail_422(&bad);
    assert_eq!(loc, json!(["body", "$append"]));
}

#[tokio::test]
async fn a_password_key_in_patch_changes_the_password_and_the_same_token_keeps_working() {
    let app = TestApp::spawn().await;
    let (token, id) = signed_up(&app, "ann@example.com", json!({"name": "Ann"})).await;
    let other = login(&app, "ann@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let weak = update(&app, Method::PATCH, &token, json!({"password": "short"})).await;
    let (loc, _) = detail_422(&weak);
    assert_eq!(loc, json!(["body", "password"]));
    assert_eq!(login(&app, "ann@example.com", PW).await.status, 200);

    let res = update(&app, Method::PATCH, &token, json!({"password": NEW_PW})).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), USER_KEYS);
    assert_eq!(res.body["data"], json!({"name": "Ann"}));

    // The SDK keeps its token: it must still work. Other sessions end.
    let me = current_user(&app, &token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], id);
    assert_eq!(current_user(&app, &other).await.status, 401);
    assert_eq!(login(&app, "ann@example.com", PW).await.status, 401);
    assert_eq!(login(&app, "ann@example.com", NEW_PW).await.status, 200);
}

#[tokio::test]
async fn the_email_cannot_be_changed_through_the_user_endpoint() {
    let app = TestApp::spawn().await;
    let (token, _) = signed_up(&app, "ann@example.com", json!({})).await;
    for method in [Method::PATCH, Method::PUT] {
        let res = update(
            &app,
            method.clone(),
            &token,
            json!({"email": "new@example.com", "data": {"x": 1}}),
        )
        .await;
        let (loc, _) = detail_422(&res);
        assert_eq!(loc, json!(["body", "email"]), "{method}");
    }
    let me = current_user(&app, &token).await;
    assert_eq!(me.body["email"], "ann@example.com");
    assert_eq!(
        me.body["data"],
        json!({}),
        "a refused update changes nothing"
    );

    // The SDK may echo the unchanged address, in any case.
    let same = update(
        &app,
        Method::PATCH,
        &token,
        json!({"email": "ANN@example.com", "data": {"x": 1}}),
    )
    .await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body["email"], "ann@example.com");
    assert_eq!(same.body["data"], json!({"x": 1}));
    assert_eq!(login(&app, "new@example.com", PW).await.status, 401);
}

#[tokio::test]
async fn change_password_needs_the_current_password_and_swaps_the_token() {
    let app = TestApp::spawn().await;
    let (token, id) = signed_up(&app, "ann@example.com", json!({})).await;
    let other = login(&app, "ann@example.com", PW).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = |token: String, body: Value| {
        app.rest(Method::POST, "/auth-collections/change-password")
            .bearer_auth(token)
            .json(&body)
            .reply()
    };

    let wrong = change(
        token.clone(),
        json!({"current_password": "not the password", "new_password": NEW_PW}),
    )
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert_eq!(wrong.body, json!({"detail": "Invalid email or password"}));
    let missing = change(token.clone(), json!({"new_password": NEW_PW})).await;
    assert_eq!(detail_422(&missing).0, json!(["body", "current_password"]));
    let weak = change(
        token.clone(),
        json!({"current_password": PW, "new_password": "short"}),
    )
    .await;
    assert_eq!(detail_422(&weak).0, json!(["body", "password"]));
    let anon = app
        .rest(Method::POST, "/auth-collections/change-password")
        .header("x-api-key", &app.pk)
        .json(&json!({"current_password": PW, "new_password": NEW_PW}))
        .reply()
        .await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    // None of that changed anything.
    assert_eq!(current_user(&app, &token).await.status, 200);

    let ok = change(
        token.clone(),
        json!({"current_password": PW, "new_password": NEW_PW}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        keys(&ok.body),
        ["access_token", "message", "token_type", "user"]
    );
    assert_eq!(ok.body["token_type"], "bearer");
    assert_eq!(ok.body["user"]["id"], id);
    let new_token = ok.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);

    for old in [&token, &other] {
        let res = current_user(&app, old).await;
        assert_eq!(res.status, 401, "{}", res.body);
        assert_eq!(
            res.body,
            json!({"detail": "Invalid token or token expired"})
        );
    }
    assert_eq!(current_user(&app, &new_token).await.body["id"], id);
    assert_eq!(login(&app, "ann@example.com", PW).await.status, 401);
    assert_eq!(login(&app, "ann@example.com", NEW_PW).await.status, 200);

    // The camelCase spellings are accepted too.
    let camel = change(
        new_token,
        json!({"currentPassword": NEW_PW, "newPassword": "third password!"}),
    )
    .await;
    assert_eq!(camel.status, 200, "{}", camel.body);
    assert_eq!(
        login(&app, "ann@example.com", "third password!")
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn only_the_secret_key_lists_users() {
    let app = TestApp::spawn().await;
    let (token, _) = signed_up(&app, "ann@example.com", json!({})).await;
    let get = || app.rest(Method::GET, "/auth-collections/users");

    let none = get().reply().await;
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.body, json!({"detail": "Not authenticated"}));
    for req in [
        get().header("x-api-key", &app.pk),
        get().bearer_auth(&token),
        get().header("x-api-key", &app.pk).bearer_auth(&token),
    ] {
        let res = req.reply().await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert_eq!(keys(&res.body), ["detail"]);
        assert!(res.body["detail"].is_string(), "{}", res.body);
    }
    for req in [
        get().header("x-api-key", &app.sk),
        get().bearer_auth(&app.sk),
    ] {
        let res = req.reply().await;
        assert_eq!(emails(&res), ["ann@example.com"]);
    }
}

#[tokio::test]
async fn the_user_list_pages_with_limit_offset_has_more_and_an_optional_total() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            signed_up(&app, &format!("u{i}@example.com"), json!({"n": i}))
                .await
                .1,
        );
    }
    let page_ids = |res: &Reply| -> Vec<String> {
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["data"], res.body["users"]);
        res.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    let all = list(&app, &[]).await;
    assert_eq!(
        keys(&all.body),
        ["data", "has_more", "limit", "offset", "total", "users"]
    );
    assert_eq!(page_ids(&all), newest_first);
    assert_eq!(
        (
            &all.body["total"],
            &all.body["limit"],
            &all.body["offset"],
            &all.body["has_more"]
        ),
        (&json!(5), &json!(50), &json!(0), &json!(false))
    );
    let first = &all.body["data"][0];
    assert_eq!(keys(first), USER_KEYS);
    assert_eq!(first["email"], "u4@example.com");
    assert_eq!(first["data"], json!({"n": 4}));

    for (limit, offset, want, more) in [
        ("2", "0", &newest_first[0..2], true),
        ("2", "2", &newest_first[2..4], true),
        ("2", "3", &newest_first[3..5], false),
        ("2", "4", &newest_first[4..5], false),
        ("2", "10", &newest_first[5..5], false),
    ] {
        let res = list(&app, &[("limit", limit), ("offset", offset)]).await;
        assert_eq!(page_ids(&res), want, "limit {limit} offset {offset}");
        assert_eq!(res.body["total"], 5);
        assert_eq!(res.body["limit"], 2);
        assert_eq!(res.body["offset"], offset.parse::<u64>().unwrap());
        assert_eq!(res.body["has_more"], more, "limit {limit} offset {offset}");
    }

    // `count=false` skips the total; `has_more` still tells about a next page.
    let uncounted = list(&app, &[("limit", "2"), ("count", "false")]).await;
    assert_eq!(page_ids(&uncounted), &newest_first[0..2]);
    assert!(uncounted.body["total"].is_null(), "{}", uncounted.body);
    assert_eq!(uncounted.body["has_more"], true);
}

/// Query-string pairs.
type Query<'a> = Vec<(&'a str, &'a str)>;

/// Four users with profile data; bob also has the `admin` role.
async fn population(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for (email, data) in [
        (
            "ann@alpha.com",
            json!({"name": "Ann", "age": 30, "city": "NYC", "bio": "hi"}),
        ),
        (
            "bob@beta.com",
            json!({"name": "Bob", "age": 25, "city": "LA"}),
        ),
        (
            "cat@alpha.com",
            json!({"name": "Cat", "age": 100, "city": "SF", "nick": "Kitty"}),
        ),
        (
            "dan@delta.com",
            json!({"name": "Dan", "age": 9, "city": "NYC", "nick": "Danny"}),
        ),
    ] {
        ids.push(signed_up(app, email, data).await.1);
    }
    set_roles(app, &ids[1], json!(["user", "admin"])).await;
    ids
}

#[tokio::test]
async fn the_user_list_filters_by_role_email_profile_fields_and_operators() {
    let app = TestApp::spawn().await;
    let ids = population(&app).await;
    let (ann, bob, cat, dan) = (
        "ann@alpha.com",
        "bob@beta.com",
        "cat@alpha.com",
        "dan@delta.com",
    );
    let id_list = format!("{},{}", ids[0], ids[2]);
    let cases: Vec<(Query, Vec<&str>)> = vec![
        (vec![("role", "admin")], vec![bob]),
        (vec![("role", "user")], vec![ann, bob, cat, dan]),
        (vec![("email_contains", "@alpha.com")], vec![ann, cat]),
        (vec![("email_eq", "bob@beta.com")], vec![bob]),
        (vec![("city", "NYC")], vec![ann, dan]),
        (vec![("city_eq", "NYC")], vec![ann, dan]),
        (vec![("city_ne", "NYC")], vec![bob, cat]),
        (vec![("city_in", "NYC,LA")], vec![ann, bob, dan]),
        (vec![("city_notin", "NYC,LA")], vec![cat]),
        (vec![("id_in", id_list.as_str())], vec![ann, cat]),
        // Numeric, not text, comparison: "9" > "30" as text.
        (vec![("age_gte", "30")], vec![ann, cat]),
        (vec![("age_lt", "26")], vec![bob, dan]),
        (vec![("age_gte", "25"), ("age_lte", "30")], vec![ann, bob]),
        (vec![("bio_isnull", "true")], vec![bob, cat, dan]),
        (vec![("bio_isnull", "false")], vec![ann]),
        (vec![("name_icontains", "ANN")], vec![ann]),
        (vec![("name_startswith", "Da")], vec![dan]),
        (vec![("nick_endswith", "tty")], vec![cat]),
        (vec![("city", "NYC"), ("age_gte", "30")], vec![ann]),
        // `[or]` conditions form one OR group, ANDed with the rest.
        (
            vec![("[or]city", "LA"), ("[or]age_gte", "100")],
            vec![bob, cat],
        ),
        (
            vec![
                ("email_contains", "alpha"),
                ("[or]city", "LA"),
                ("[or]age_gte", "100"),
            ],
            vec![cat],
        ),
        (
            vec![
                ("[or:a]city", "LA"),
                ("[or:a]city", "SF"),
                ("[or:b]age_lt", "10"),
                ("[or:b]age_gte", "100"),
            ],
            vec![cat],
        ),
        // `a__or__b_contains`: Ann by name, Dan by nick ("Danny").
        (vec![("name__or__nick_contains", "nn")], vec![ann, dan]),
    ];
    for (query, want) in cases {
        let mut q = query.clone();
        q.extend([("sort", "email"), ("order", "asc")]);
        let res = list(&app, &q).await;
        assert_eq!(emails(&res), want, "{query:?}");
        assert_eq!(res.body["total"], want.len(), "{query:?}");
    }
}

#[tokio::test]
async fn the_user_list_filters_through_referred_by_id_as_the_docs_relations_do() {
    let app = TestApp::spawn().await;
    let (_, referrer) = signed_up(&app, "ref@example.com", json!({"name": "Ref"})).await;
    let (_, other) = signed_up(&app, "other@example.com", json!({"name": "Other"})).await;
    // The docs' signup: `referred_by_id` flat beside the credentials.
    for (email, by) in [
        ("new1@example.com", &referrer),
        ("new2@example.com", &other),
    ] {
        let res = signup(
            &app,
            json!({"email": email, "password": PW, "referred_by_id": by}),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["user"]["data"], json!({"referred_by_id": by}));
    }
    for (query, want) in [
        (
            vec![("referred_by_id_eq", referrer.as_str())],
            vec!["new1@example.com"],
        ),
        (
            vec![("referred_by.email_eq", "ref@example.com")],
            vec!["new1@example.com"],
        ),
        (
            vec![("referred_by.name_contains", "Oth")],
            vec!["new2@example.com"],
        ),
        (
            vec![("referred_by_id_isnull", "false")],
            vec!["new1@example.com", "new2@example.com"],
        ),
        (
            vec![("referred_by_id_isnull", "true")],
            vec!["other@example.com", "ref@example.com"],
        ),
    ] {
        let mut q = query.clone();
        q.extend([("sort", "email"), ("order", "asc")]);
        let res = list(&app, &q).await;
        assert_eq!(emails(&res), want, "{query:?}");
    }
}

#[tokio::test]
async fn the_user_list_sorts_by_sort_and_order_or_sort_by_and_sort_order() {
    let app = TestApp::spawn().await;
    population(&app).await;
    let (ann, bob, cat, dan) = (
        "ann@alpha.com",
        "bob@beta.com",
        "cat@alpha.com",
        "dan@delta.com",
    );
    for (query, want) in [
        (
            vec![("sort", "age"), ("order", "asc")],
            vec![dan, bob, ann, cat],
        ),
        (
            vec![("sort_by", "age"), ("sort_order", "desc")],
            vec![cat, ann, bob, dan],
        ),
        // The order defaults to descending.
        (vec![("sort", "name")], vec![dan, cat, bob, ann]),
        (
            vec![("sort_by", "created_at"), ("sort_order", "asc")],
            vec![ann, bob, cat, dan],
        ),
        (
            vec![("sort", "email"), ("order", "ASC")],
            vec![ann, bob, cat, dan],
        ),
        // Newest first without a sort.
        (vec![], vec![dan, cat, bob, ann]),
    ] {
        let res = list(&app, &query).await;
        assert_eq!(emails(&res), want, "{query:?}");
    }
}

#[tokio::test]
async fn bad_list_parameters_are_422_with_a_detail_naming_them() {
    let app = TestApp::spawn().await;
    for (query, field) in [
        (("limit", "abc"), Some("limit")),
        (("limit", "0"), Some("limit")),
        (("limit", "501"), Some("limit")),
        (("offset", "-1"), Some("offset")),
        (("order", "sideways"), Some("order")),
        (("bad..path", "1"), Some("filter")),
        (("created_at_gt", "not a date"), Some("filter")),
        (("[orcity", "LA"), None),
    ] {
        let mut q = vec![query];
        if query.0 == "order" {
            q.push(("sort", "name"));
        }
        let res = list(&app, &q).await;
        let (loc, _) = detail_422(&res);
        if let Some(field) = field {
            assert_eq!(loc[1], field, "{query:?}: {}", res.body);
        }
    }
}

const PUBLIC_USERNAME: &str = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n[[collections.fields]]\nname = 'username'\ntype = 'text'\npublic = true\n";

#[tokio::test]
async fn a_user_by_id_is_whole_for_its_owner_and_the_secret_key_and_public_fields_only_for_others()
{
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(PUBLIC_USERNAME).unwrap())
        .await
        .unwrap();
    let (ann_token, ann) = signed_up(
        &app,
        "ann@example.com",
        json!({"username": "ann", "city": "Paris"}),
    )
    .await;
    let (bob_token, _) = signed_up(&app, "bob@example.com", json!({"username": "bob"})).await;
    let path = format!("/auth-collections/users/{ann}");

    let full = [
        app.rest(Method::GET, &path).header("x-api-key", &app.sk),
        app.rest(Method::GET, &path).bearer_auth(&ann_token),
        coco(&app, Method::GET, &path).bearer_auth(&ann_token),
    ];
    for req in full {
        let res = req.reply().await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(keys(&res.body), USER_KEYS);
        assert_eq!(res.body["email"], "ann@example.com");
        assert_eq!(
            res.body["data"],
            json!({"username": "ann", "city": "Paris"})
        );
    }

    let public = [
        app.rest(Method::GET, &path).bearer_auth(&bob_token),
        coco(&app, Method::GET, &path),
    ];
    for req in public {
        let res = req.reply().await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(
            keys(&res.body),
            ["created_at", "data", "id"],
            "{}",
            res.body
        );
        assert_eq!(res.body["id"], ann);
        assert_eq!(res.body["data"], json!({"username": "ann"}));
        assert_iso(&res.body["created_at"]);
    }

    let missing = app
        .rest(Method::GET, "/auth-collections/users/nosuchuser12345")
        .header("x-api-key", &app.sk)
        .reply()
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.body, json!({"detail": "User not found"}));
    let anon = app.rest(Method::GET, &path).reply().await;
    assert_eq!(anon.status, 401, "{}", anon.body);
}

#[tokio::test]
async fn auth_register_takes_the_key_as_a_bearer_and_answers_success_and_data() {
    let app = TestApp::spawn().await;
    let register = |auth: Option<&str>, body: Value| {
        let mut req = app.rest(Method::POST, "/auth/register").json(&body);
        if let Some(k) = auth {
            req = req.bearer_auth(k);
        }
        req.reply()
    };
    let res = register(
        Some(&app.pk),
        json!({"email": "john@example.com", "password": PW, "name": "John Doe"}),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(keys(&res.body), ["data", "success"]);
    assert_eq!(res.body["success"], true);
    assert_eq!(keys(&res.body["data"]), ["token", "user"]);
    let user = &res.body["data"]["user"];
    assert_eq!(keys(user), ["createdAt", "email", "id", "name"]);
    assert_eq!(user["email"], "john@example.com");
    assert_eq!(user["name"], "John Doe");
    assert_iso(&user["createdAt"]);
    let token = res.body["data"]["token"].as_str().unwrap();
    let me = current_user(&app, token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], user["id"]);
    assert_eq!(me.body["data"], json!({"name": "John Doe"}));

    let error = |res: &Reply, status: u16, code: &str| {
        assert_eq!(res.status, status, "{}", res.body);
        assert_eq!(keys(&res.body), ["error", "success"]);
        assert_eq!(res.body["success"], false);
        assert_eq!(keys(&res.body["error"]), ["code", "message"]);
        assert_eq!(res.body["error"]["code"], code, "{}", res.body);
        assert!(!res.body["error"]["message"].as_str().unwrap().is_empty());
    };
    let dup = register(
        Some(&app.pk),
        json!({"email": "JOHN@example.com", "password": PW}),
    )
    .await;
    error(&dup, 409, "EMAIL_EXISTS");
    assert_eq!(
        dup.body["error"]["message"],
        "A user with this email already exists"
    );
    let bad_email = register(Some(&app.pk), json!({"email": "john", "password": PW})).await;
    error(&bad_email, 400, "INVALID_EMAIL");
    assert_eq!(
        bad_email.body["error"]["message"],
        "Please provide a valid email address"
    );
    let weak = register(
        Some(&app.pk),
        json!({"email": "weak@example.com", "password": "short"}),
    )
    .await;
    error(&weak, 400, "WEAK_PASSWORD");
    let keyless = register(None, json!({"email": "k@example.com", "password": PW})).await;
    error(&keyless, 401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn capabilities_this_server_lacks_answer_403_with_a_detail() {
    let app = TestApp::spawn().await;
    let posts = [
        "/auth-collections/forgot-password",
        "/auth-collections/2fa/enable",
        "/auth-collections/2fa/send-code",
        "/auth-collections/verify-email/send",
    ];
    let gets: [&str; 0] = [];
    let reqs = posts
        .iter()
        .map(|p| {
            (
                p,
                coco(&app, Method::POST, p).json(&json!({"email": "a@example.com"})),
            )
        })
        .chain(gets.iter().map(|p| (p, coco(&app, Method::GET, p))));
    for (path, req) in reqs {
        let res = req.reply().await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
        assert_eq!(keys(&res.body), ["detail"], "{path}");
        let detail = res.body["detail"].as_str().unwrap();
        assert!(detail.contains("not enabled"), "{path}: {detail}");
    }
}

#[tokio::test]
async fn a_key_or_token_of_another_project_is_refused_on_a_projects_url() {
    let app = TestApp::spawn().await;
    let b = projects::create(&app.services.db, "Project B", None)
        .await
        .unwrap();
    let slug_b = &b.project.slug;

    // Each project's key works on its own URL; one email may live in both.
    let in_b = app
        .rest(
            Method::POST,
            &format!("/p/{slug_b}/auth-collections/signup"),
        )
        .header("x-api-key", &b.publishable_key)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(in_b.status, 200, "{}", in_b.body);
    assert_eq!(in_b.body["user"]["client_id"], b.project.id);
    let b_token = in_b.body["access_token"].as_str().unwrap();
    let b_id = in_b.body["user"]["id"].as_str().unwrap();
    let in_a = coco(&app, Method::POST, "/p/default/auth-collections/signup")
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(in_a.status, 200, "{}", in_a.body);
    assert_ne!(in_a.body["user"]["id"], b_id);

    let refused = [
        app.rest(Method::POST, "/p/default/auth-collections/login")
            .header("x-api-key", &b.publishable_key)
            .json(&json!({"email": "ann@example.com", "password": PW})),
        app.rest(Method::GET, "/p/default/auth-collections/user")
            .bearer_auth(b_token),
        app.rest(Method::GET, "/p/default/auth-collections/users")
            .header("x-api-key", &b.secret_key),
    ];
    for req in refused {
        let res = req.reply().await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert_eq!(keys(&res.body), ["detail"]);
    }

    // Neither project's administrator sees the other's users.
    assert_eq!(emails(&list(&app, &[]).await), ["ann@example.com"]);
    assert_ne!(list(&app, &[]).await.body["data"][0]["id"], b_id);
    let foreign = app
        .rest(Method::GET, &format!("/auth-collections/users/{b_id}"))
        .header("x-api-key", &app.sk)
        .reply()
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    // A user by id under the prefix: B's secret key on B's URL, not A's.
    let by_id = format!("/p/{slug_b}/auth-collections/users/{b_id}");
    let own = app
        .rest(Method::GET, &by_id)
        .header("x-api-key", &b.secret_key)
        .reply()
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["email"], "ann@example.com");
    let crossed = app
        .rest(Method::GET, &by_id)
        .header("x-api-key", &app.sk)
        .reply()
        .await;
    assert_eq!(crossed.status, 403, "{}", crossed.body);

    let unknown = coco(
        &app,
        Method::POST,
        "/p/no-such-project/auth-collections/login",
    )
    .json(&json!({"email": "ann@example.com", "password": PW}))
    .reply()
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(keys(&unknown.body), ["detail"]);
}
