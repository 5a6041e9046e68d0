//! PocketBase's documented REST URLs: `/api/collections/{collection}/…`, records
//! with flat profile fields, errors `{status, message, data}`.
use authgraph::domain::{apply, projects, superusers};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

use crate::helpers::{Reply, ReplyExt, TestApp, jwt_payload, keys, with_query};

const PW: &str = "correct horse battery";
const NEW_PW: &str = "a brand new password";
const USERS: &str = "/api/collections/users";

fn pb(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.rest(method, path)
}

async fn create(app: &TestApp, body: Value) -> Reply {
    pb(app, Method::POST, &format!("{USERS}/records"))
        .json(&body)
        .reply()
        .await
}

async fn auth(app: &TestApp, identity: &str, password: &str) -> Reply {
    pb(app, Method::POST, &format!("{USERS}/auth-with-password"))
        .json(&json!({"identity": identity, "password": password}))
        .reply()
        .await
}

/// Creates a record (with `fields` flat beside the credentials) and logs in:
/// (token, record id).
async fn user(app: &TestApp, email: &str, fields: Value) -> (String, String) {
    let mut body = json!({"email": email, "password": PW, "passwordConfirm": PW});
    body.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let created = create(app, body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let res = auth(app, email, PW).await;
    assert_eq!(res.status, 200, "{}", res.body);
    (
        res.body["token"].as_str().unwrap().to_owned(),
        res.body["record"]["id"].as_str().unwrap().to_owned(),
    )
}

/// A `_superusers` token, the PocketBase way.
async fn superuser(app: &TestApp) -> String {
    superusers::upsert(&app.services, "root@example.com", "superuser password")
        .await
        .unwrap();
    let res = pb(
        app,
        Method::POST,
        "/api/collections/_superusers/auth-with-password",
    )
    .json(&json!({"identity": "root@example.com", "password": "superuser password"}))
    .reply()
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["record", "token"]);
    assert_eq!(res.body["record"]["collectionName"], "_superusers");
    assert_eq!(res.body["record"]["email"], "root@example.com");
    res.body["token"].as_str().unwrap().to_owned()
}

/// A request with the token sent raw, as the SDK does.
fn with_token(req: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(t) => req.header("authorization", t),
        None => req,
    }
}

async fn view(app: &TestApp, token: Option<&str>, id: &str) -> Reply {
    with_token(
        pb(app, Method::GET, &format!("{USERS}/records/{id}")),
        token,
    )
    .reply()
    .await
}

async fn patch(app: &TestApp, token: Option<&str>, id: &str, body: Value) -> Reply {
    with_token(
        pb(app, Method::PATCH, &format!("{USERS}/records/{id}")),
        token,
    )
    .json(&body)
    .reply()
    .await
}

async fn list(app: &TestApp, token: Option<&str>, query: &[(&str, &str)]) -> Reply {
    with_token(
        pb(
            app,
            Method::GET,
            &with_query(&format!("{USERS}/records"), query),
        ),
        token,
    )
    .reply()
    .await
}

async fn refresh(app: &TestApp, token: Option<&str>) -> Reply {
    with_token(
        pb(app, Method::POST, &format!("{USERS}/auth-refresh")),
        token,
    )
    .reply()
    .await
}

fn names(res: &Reply) -> Vec<&str> {
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

/// The PocketBase error body with its status; returns `data`.
fn pb_error(res: &Reply, status: u16) -> &Value {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(
        keys(&res.body),
        ["data", "message", "status"],
        "{}",
        res.body
    );
    assert_eq!(res.body["status"], status);
    assert!(!res.body["message"].as_str().unwrap().is_empty());
    assert!(res.body["data"].is_object());
    &res.body["data"]
}

/// The field error code of a 400 under `data.<field>.code`.
fn field_code<'a>(res: &'a Reply, field: &str) -> &'a str {
    let data = pb_error(res, 400);
    assert_eq!(keys(&data[field]), ["code", "message"], "{}", res.body);
    data[field]["code"].as_str().unwrap()
}

fn assert_pb_date(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    assert_eq!(s.len(), 24, "{s}");
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3fZ")
        .unwrap_or_else(|e| panic!("{s}: {e}"));
}

fn assert_pb_id(v: &Value) {
    let id = v.as_str().unwrap();
    assert_eq!(id.len(), 15, "{id}");
    assert!(
        id.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{id}"
    );
}

const RECORD_KEYS: [&str; 7] = [
    "collectionId",
    "collectionName",
    "created",
    "emailVisibility",
    "id",
    "updated",
    "verified",
];

fn record_keys(extra: &[&'static str]) -> Vec<&'static str> {
    let mut k: Vec<&str> = RECORD_KEYS.iter().chain(extra).copied().collect();
    k.sort_unstable();
    k
}

#[tokio::test]
async fn creating_a_record_answers_200_with_the_record_and_hides_the_email_from_guests() {
    let app = TestApp::spawn().await;
    let res = create(
        &app,
        json!({"email": "ann@example.com", "password": PW, "passwordConfirm": PW, "name": "Ann", "age": 3}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let r = &res.body;
    assert_eq!(keys(r), record_keys(&["age", "name"]));
    assert_pb_id(&r["id"]);
    assert_eq!(r["collectionName"], "users");
    assert!(!r["collectionId"].as_str().unwrap().is_empty());
    assert_pb_date(&r["created"]);
    assert_pb_date(&r["updated"]);
    assert_eq!(r["emailVisibility"], false);
    assert_eq!(r["verified"], false);
    assert_eq!((&r["name"], &r["age"]), (&json!("Ann"), &json!(3)));

    // A visible email is shown to everyone.
    let visible = create(
        &app,
        json!({"email": "bob@example.com", "password": PW, "passwordConfirm": PW, "emailVisibility": true}),
    )
    .await;
    assert_eq!(visible.status, 200, "{}", visible.body);
    assert_eq!(keys(&visible.body), record_keys(&["email"]));
    assert_eq!(visible.body["email"], "bob@example.com");
    assert_eq!(visible.body["emailVisibility"], true);

    // The record can be addressed by its collection's id as well as its name.
    let login = auth(&app, "ann@example.com", PW).await;
    let token = login.body["token"].as_str().unwrap();
    let by_id = with_token(
        pb(
            &app,
            Method::GET,
            &format!(
                "/api/collections/{}/records/{}",
                r["collectionId"].as_str().unwrap(),
                r["id"].as_str().unwrap()
            ),
        ),
        Some(token),
    )
    .reply()
    .await;
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(by_id.body["id"], r["id"]);
}

#[tokio::test]
async fn creation_errors_carry_field_codes_under_data() {
    let app = TestApp::spawn().await;
    let ok = create(
        &app,
        json!({"email": "ann@example.com", "password": PW, "passwordConfirm": PW}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let dup = create(
        &app,
        json!({"email": "ANN@example.com", "password": PW, "passwordConfirm": PW}),
    )
    .await;
    assert_eq!(field_code(&dup, "email"), "validation_not_unique");
    assert_eq!(dup.body["message"], "Failed to create record.");
    let mismatch = create(
        &app,
        json!({"email": "bob@example.com", "password": PW, "passwordConfirm": "something else"}),
    )
    .await;
    assert_eq!(
        field_code(&mismatch, "passwordConfirm"),
        "validation_values_mismatch"
    );
    let bad_email = create(
        &app,
        json!({"email": "bob", "password": PW, "passwordConfirm": PW}),
    )
    .await;
    assert_eq!(field_code(&bad_email, "email"), "validation_is_email");
    let blank = create(&app, json!({"email": "bob@example.com", "password": PW})).await;
    assert_eq!(field_code(&blank, "passwordConfirm"), "validation_required");
    let short = create(
        &app,
        json!({"email": "bob@example.com", "password": "short", "passwordConfirm": "short"}),
    )
    .await;
    assert_eq!(
        field_code(&short, "password"),
        "validation_length_out_of_range"
    );
    let no_visibility_bool = create(
        &app,
        json!({"email": "bob@example.com", "password": PW, "passwordConfirm": PW, "emailVisibility": "yes"}),
    )
    .await;
    field_code(&no_visibility_bool, "emailVisibility");
    // None of the refused creations made a user.
    assert_eq!(auth(&app, "bob@example.com", PW).await.status, 400);
}

#[tokio::test]
async fn auth_with_password_returns_token_and_record_and_a_fixed_failure() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        json!({"email": "ann@example.com", "password": PW, "passwordConfirm": PW, "name": "Ann"}),
    )
    .await;
    let res = auth(&app, "ann@example.com", PW).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["record", "token"]);
    let record = &res.body["record"];
    // Auth responses always show the email.
    assert_eq!(keys(record), record_keys(&["email", "name"]));
    assert_eq!(record["email"], "ann@example.com");
    assert_eq!(record["id"], created.body["id"]);
    assert_eq!(record["created"], created.body["created"]);

    // The SDK decodes the token: it must be a JWT with these claims.
    let claims = jwt_payload(res.body["token"].as_str().unwrap());
    assert!(claims["exp"].is_i64(), "{claims}");
    assert_eq!(claims["id"], record["id"]);
    assert_eq!(claims["collectionId"], record["collectionId"]);
    assert_eq!(claims["type"], "auth");
    assert_eq!(claims["refreshable"], true);

    let failed = json!({"status": 400, "message": "Failed to authenticate.", "data": {}});
    for (identity, pw) in [
        ("ann@example.com", "not the password"),
        ("nobody@example.com", PW),
    ] {
        let res = auth(&app, identity, pw).await;
        assert_eq!(res.status, 400, "{}", res.body);
        assert_eq!(res.body, failed);
    }
    let blank = pb(&app, Method::POST, &format!("{USERS}/auth-with-password"))
        .json(&json!({"password": PW}))
        .reply()
        .await;
    pb_error(&blank, 400);
    assert!(blank.body["data"]["identity"].is_object(), "{}", blank.body);
}

#[tokio::test]
async fn the_token_is_accepted_raw_or_with_bearer_and_auth_refresh_renews_it() {
    let app = TestApp::spawn().await;
    let (token, id) = user(&app, "ann@example.com", json!({})).await;
    for header in [token.clone(), format!("Bearer {token}")] {
        let res = pb(&app, Method::GET, &format!("{USERS}/records/{id}"))
            .header("authorization", header)
            .reply()
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body["email"], "ann@example.com");
    }

    let unauthorized = json!({
        "status": 401,
        "message": "The request requires valid record authorization token.",
        "data": {},
    });
    for t in [None, Some("not.a.token")] {
        let res = refresh(&app, t).await;
        assert_eq!(res.status, 401, "{}", res.body);
        assert_eq!(res.body, unauthorized);
    }
    let res = refresh(&app, Some(&token)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body), ["record", "token"]);
    assert_eq!(res.body["record"]["id"], id);
    assert_eq!(res.body["record"]["email"], "ann@example.com");
    let renewed = res.body["token"].as_str().unwrap();
    assert_eq!(view(&app, Some(renewed), &id).await.status, 200);
}

#[tokio::test]
async fn a_user_views_updates_and_deletes_its_own_record_and_another_is_404() {
    let app = TestApp::spawn().await;
    let (ann_token, ann) = user(&app, "ann@example.com", json!({"name": "Ann"})).await;
    let (_, bob) = user(&app, "bob@example.com", json!({"name": "Bob"})).await;
    let not_found =
        json!({"status": 404, "message": "The requested resource wasn't found.", "data": {}});

    let own = view(&app, Some(&ann_token), &ann).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(keys(&own.body), record_keys(&["email", "name"]));
    for res in [
        view(&app, Some(&ann_token), &bob).await,
        view(&app, None, &ann).await,
        patch(&app, Some(&ann_token), &bob, json!({"name": "Hacked"})).await,
        with_token(
            pb(&app, Method::DELETE, &format!("{USERS}/records/{bob}")),
            Some(&ann_token),
        )
        .reply()
        .await,
    ] {
        assert_eq!(res.status, 404, "{}", res.body);
        assert_eq!(res.body, not_found);
    }

    // Echoed system keys are ignored; profile fields merge flat.
    let updated = patch(
        &app,
        Some(&ann_token),
        &ann,
        json!({"name": "Ann B", "city": "Rome", "id": "zzzzzzzzzzzzzzz", "verified": true, "collectionName": "x", "created": "2000-01-01 00:00:00.000Z", "emailVisibility": true}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(keys(&updated.body), record_keys(&["city", "email", "name"]));
    assert_eq!(updated.body["id"], ann);
    assert_eq!(updated.body["verified"], false);
    assert_eq!(updated.body["collectionName"], "users");
    assert_eq!(updated.body["created"], own.body["created"]);
    assert_eq!(updated.body["emailVisibility"], true);
    assert_eq!(
        (&updated.body["name"], &updated.body["city"]),
        (&json!("Ann B"), &json!("Rome"))
    );
    assert_eq!(view(&app, Some(&ann_token), &ann).await.body, updated.body);

    let new_email = patch(
        &app,
        Some(&ann_token),
        &ann,
        json!({"email": "new@example.com"}),
    )
    .await;
    field_code(&new_email, "email");

    let deleted = with_token(
        pb(&app, Method::DELETE, &format!("{USERS}/records/{ann}")),
        Some(&ann_token),
    )
    .reply()
    .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_null());
    assert_eq!(auth(&app, "ann@example.com", PW).await.status, 400);
    assert_eq!(view(&app, Some(&ann_token), &ann).await.status, 404);
    // Bob is untouched.
    assert_eq!(auth(&app, "bob@example.com", PW).await.status, 200);
}

#[tokio::test]
async fn a_password_change_needs_the_old_password_and_ends_every_earlier_token() {
    let app = TestApp::spawn().await;
    let (t1, id) = user(&app, "ann@example.com", json!({})).await;
    let t2 = auth(&app, "ann@example.com", PW).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let no_old = patch(
        &app,
        Some(&t1),
        &id,
        json!({"password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(
        field_code(&no_old, "oldPassword"),
        "validation_invalid_old_password"
    );
    let wrong_old = patch(
        &app,
        Some(&t1),
        &id,
        json!({"oldPassword": "not the password", "password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(
        field_code(&wrong_old, "oldPassword"),
        "validation_invalid_old_password"
    );
    let mismatch = patch(
        &app,
        Some(&t1),
        &id,
        json!({"oldPassword": PW, "password": NEW_PW, "passwordConfirm": "other"}),
    )
    .await;
    assert_eq!(
        field_code(&mismatch, "passwordConfirm"),
        "validation_values_mismatch"
    );
    let weak = patch(
        &app,
        Some(&t1),
        &id,
        json!({"oldPassword": PW, "password": "short", "passwordConfirm": "short", "name": "X"}),
    )
    .await;
    field_code(&weak, "password");
    // Nothing changed so far.
    let after_failures = view(&app, Some(&t1), &id).await;
    assert_eq!(after_failures.status, 200);
    assert!(
        after_failures.body.get("name").is_none(),
        "{}",
        after_failures.body
    );

    let ok = patch(
        &app,
        Some(&t1),
        &id,
        json!({"oldPassword": PW, "password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["id"], id);
    assert!(ok.body.get("password").is_none() && ok.body.get("tokenKey").is_none());

    for t in [&t1, &t2] {
        assert_eq!(refresh(&app, Some(t)).await.status, 401);
        assert_eq!(view(&app, Some(t), &id).await.status, 404);
    }
    assert_eq!(auth(&app, "ann@example.com", PW).await.status, 400);
    let fresh = auth(&app, "ann@example.com", NEW_PW).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(
        view(&app, fresh.body["token"].as_str(), &id).await.status,
        200
    );
}

#[tokio::test]
async fn list_rules_give_guests_nothing_users_themselves_and_superusers_everyone() {
    let app = TestApp::spawn().await;
    let (ann_token, ann) = user(&app, "ann@example.com", json!({"name": "Ann"})).await;
    user(&app, "bob@example.com", json!({"name": "Bob"})).await;
    user(&app, "cat@example.com", json!({"name": "Cat"})).await;

    let guest = list(&app, None, &[]).await;
    assert_eq!(guest.status, 200, "{}", guest.body);
    assert_eq!(
        guest.body,
        json!({"page": 1, "perPage": 30, "totalItems": 0, "totalPages": 0, "items": []})
    );

    let own = list(&app, Some(&ann_token), &[]).await;
    assert_eq!(
        keys(&own.body),
        ["items", "page", "perPage", "totalItems", "totalPages"]
    );
    assert_eq!(names(&own), ["Ann"]);
    assert_eq!(
        (&own.body["totalItems"], &own.body["totalPages"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(own.body["items"][0]["id"], ann);
    assert_eq!(own.body["items"][0]["email"], "ann@example.com");

    let root = superuser(&app).await;
    let all = list(&app, Some(&root), &[("sort", "name")]).await;
    assert_eq!(names(&all), ["Ann", "Bob", "Cat"]);
    assert_eq!(all.body["totalItems"], 3);
    for item in all.body["items"].as_array().unwrap() {
        assert_eq!(keys(item), record_keys(&["email", "name"]));
    }

    // A superuser also reads and changes any record, without an old password.
    let bob = all.body["items"][1]["id"].as_str().unwrap();
    assert_eq!(
        view(&app, Some(&root), bob).await.body["email"],
        "bob@example.com"
    );
    let reset = patch(
        &app,
        Some(&root),
        bob,
        json!({"password": NEW_PW, "passwordConfirm": NEW_PW}),
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(auth(&app, "bob@example.com", NEW_PW).await.status, 200);
    // Superusers are not created through the records API.
    let su_create = pb(&app, Method::POST, "/api/collections/_superusers/records")
        .json(&json!({"email": "x@example.com", "password": PW, "passwordConfirm": PW}))
        .reply()
        .await;
    pb_error(&su_create, 403);
    let su_refresh = with_token(
        pb(
            &app,
            Method::POST,
            "/api/collections/_superusers/auth-refresh",
        ),
        Some(&root),
    )
    .reply()
    .await;
    assert_eq!(su_refresh.status, 200, "{}", su_refresh.body);
    assert_eq!(su_refresh.body["record"]["collectionName"], "_superusers");
}

#[tokio::test]
async fn lists_page_with_per_page_echo_cap_and_skip_total() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        let email = format!("u{i}@example.com");
        let res = create(
            &app,
            json!({"email": email, "password": PW, "passwordConfirm": PW, "name": format!("u{i}")}),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    let root = superuser(&app).await;
    let page = |q: Vec<(&'static str, &'static str)>| {
        let root = root.clone();
        let app = &app;
        async move {
            let mut q = q;
            q.push(("sort", "name"));
            list(app, Some(&root), &q).await
        }
    };

    let p2 = page(vec![("perPage", "2"), ("page", "2")]).await;
    assert_eq!(names(&p2), ["u2", "u3"]);
    assert_eq!(
        (
            &p2.body["page"],
            &p2.body["perPage"],
            &p2.body["totalItems"],
            &p2.body["totalPages"]
        ),
        (&json!(2), &json!(2), &json!(5), &json!(3))
    );
    let p3 = page(vec![("perPage", "2"), ("page", "3")]).await;
    assert_eq!(names(&p3), ["u4"]);
    let past = page(vec![("perPage", "2"), ("page", "9")]).await;
    assert_eq!(names(&past), Vec::<&str>::new());
    assert_eq!(past.body["page"], 9);

    let skipped = page(vec![("perPage", "2"), ("skipTotal", "1")]).await;
    assert_eq!(names(&skipped), ["u0", "u1"]);
    assert_eq!(
        (&skipped.body["totalItems"], &skipped.body["totalPages"]),
        (&json!(-1), &json!(-1))
    );

    // getFullList stops on a short page, so the size actually used is echoed.
    let capped = page(vec![("perPage", "1000")]).await;
    assert_eq!(capped.body["perPage"], 500);
    assert_eq!(names(&capped).len(), 5);
    let default = page(vec![]).await;
    assert_eq!(
        (&default.body["page"], &default.body["perPage"]),
        (&json!(1), &json!(30))
    );

    for bad in [("perPage", "0"), ("page", "0"), ("page", "abc")] {
        let res = page(vec![bad]).await;
        pb_error(&res, 400);
        assert!(res.body["data"][bad.0].is_object(), "{bad:?}: {}", res.body);
    }
}

#[tokio::test]
async fn filter_expressions_and_multi_key_sorts_select_and_order_records() {
    let app = TestApp::spawn().await;
    for (email, fields) in [
        (
            "ann@example.com",
            json!({"name": "Ann", "age": 30, "city": "NYC"}),
        ),
        (
            "bob@example.com",
            json!({"name": "Bob", "age": 25, "city": "LA"}),
        ),
        (
            "cat@example.com",
            json!({"name": "Cat", "age": 100, "city": "SF"}),
        ),
        (
            "dan@example.com",
            json!({"name": "Dan", "age": 9, "city": "NYC"}),
        ),
    ] {
        let mut body = json!({"email": email, "password": PW, "passwordConfirm": PW});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        assert_eq!(create(&app, body).await.status, 200);
    }
    let root = superuser(&app).await;
    for (filter, want) in [
        (r#"name = "Ann""#, vec!["Ann"]),
        ("name = 'Bob'", vec!["Bob"]),
        (r#"name != "Ann""#, vec!["Bob", "Cat", "Dan"]),
        // Numbers compare as numbers ("9" > "25" as text).
        ("age > 25", vec!["Ann", "Cat"]),
        ("age >= 25", vec!["Ann", "Bob", "Cat"]),
        ("age < 25", vec!["Dan"]),
        // `~` is a case-insensitive contains.
        (r#"name ~ "an""#, vec!["Ann", "Dan"]),
        (r#"city = "NYC" && age > 20"#, vec!["Ann"]),
        (r#"city = "LA" || age > 50"#, vec!["Bob", "Cat"]),
        (r#"(city = "LA" || city = "SF") && age > 50"#, vec!["Cat"]),
        (
            r#"city = "NYC" && (age < 10 || name = "Ann")"#,
            vec!["Ann", "Dan"],
        ),
        (
            r#"email ~ "@example.com" && name != "Cat""#,
            vec!["Ann", "Bob", "Dan"],
        ),
    ] {
        let res = list(&app, Some(&root), &[("filter", filter), ("sort", "name")]).await;
        assert_eq!(names(&res), want, "{filter}");
        assert_eq!(res.body["totalItems"], want.len(), "{filter}");
    }

    for (sort, want) in [
        ("-created,name", vec!["Dan", "Cat", "Bob", "Ann"]),
        ("city,-name", vec!["Bob", "Dan", "Ann", "Cat"]),
        ("-age", vec!["Cat", "Ann", "Bob", "Dan"]),
        ("age", vec!["Dan", "Bob", "Ann", "Cat"]),
    ] {
        let res = list(&app, Some(&root), &[("sort", sort)]).await;
        assert_eq!(names(&res), want, "{sort}");
    }

    // `@request.auth.id` is the caller.
    let (ann_token, ann) = {
        let res = auth(&app, "ann@example.com", PW).await;
        (
            res.body["token"].as_str().unwrap().to_owned(),
            res.body["record"]["id"].as_str().unwrap().to_owned(),
        )
    };
    let me = list(
        &app,
        Some(&ann_token),
        &[("filter", "id = @request.auth.id")],
    )
    .await;
    assert_eq!(names(&me), ["Ann"]);
    assert_eq!(me.body["items"][0]["id"], ann);
    let not_me = list(
        &app,
        Some(&ann_token),
        &[("filter", "id != @request.auth.id")],
    )
    .await;
    assert_eq!(names(&not_me), Vec::<&str>::new());

    for bad in [
        r#"(name = "Ann""#,
        r#"name = "Ann")"#,
        r#"name = "Ann" &&"#,
        "name",
    ] {
        let res = list(&app, Some(&root), &[("filter", bad)]).await;
        pb_error(&res, 400);
    }
}

#[tokio::test]
async fn keyless_urls_serve_the_default_project_and_a_token_only_its_own_project() {
    let app = TestApp::spawn().await;
    let b = projects::create(&app.services.db, "B", None).await.unwrap();
    // A user of project B (signed up through B's key).
    let in_b = app
        .rest(
            Method::POST,
            &format!("/p/{}/auth-collections/signup", b.project.slug),
        )
        .header("x-api-key", &b.publishable_key)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(in_b.status, 200, "{}", in_b.body);
    let b_id = in_b.body["user"]["id"].as_str().unwrap();
    let b_token = in_b.body["access_token"].as_str().unwrap();

    // The default project does not know that user, and may have its own.
    assert_eq!(
        auth(&app, "ann@example.com", PW).await.body["message"],
        "Failed to authenticate."
    );
    let (_, a_id) = user(&app, "ann@example.com", json!({})).await;
    assert_ne!(a_id, b_id);

    // B's token reads B's record, and lists only it.
    let own = view(&app, Some(b_token), b_id).await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.body["email"], "ann@example.com");
    assert_eq!(view(&app, Some(b_token), &a_id).await.status, 404);
    let b_list = list(&app, Some(b_token), &[]).await;
    assert_eq!(b_list.body["totalItems"], 1, "{}", b_list.body);
    assert_eq!(b_list.body["items"][0]["id"], b_id);

    // A superuser on the keyless URL sees the default project only.
    let root = superuser(&app).await;
    let default_list = list(&app, Some(&root), &[]).await;
    assert_eq!(default_list.body["totalItems"], 1, "{}", default_list.body);
    assert_eq!(default_list.body["items"][0]["id"], a_id);
    assert_eq!(view(&app, Some(&root), b_id).await.status, 404);
}

#[tokio::test]
async fn the_p_prefix_serves_another_project_and_its_tokens_do_not_cross() {
    let app = TestApp::spawn().await;
    let b = projects::create(&app.services.db, "B", None).await.unwrap();
    let b_users = format!("/p/{}/api/collections/users", b.project.slug);
    let creds =
        json!({"email": "ann@example.com", "password": PW, "passwordConfirm": PW, "name": "Ann"});

    let methods = pb(&app, Method::GET, &format!("{b_users}/auth-methods"))
        .reply()
        .await;
    assert_eq!(methods.status, 200, "{}", methods.body);
    assert_eq!(methods.body["password"]["identityFields"], json!(["email"]));
    let in_b = pb(&app, Method::POST, &format!("{b_users}/records"))
        .json(&creds)
        .reply()
        .await;
    assert_eq!(in_b.status, 200, "{}", in_b.body);
    let b_id = in_b.body["id"].as_str().unwrap();
    // The default project does not know that user, and may have its own.
    assert_eq!(auth(&app, "ann@example.com", PW).await.status, 400);
    assert_eq!(create(&app, creds.clone()).await.status, 200);
    let dup_in_b = pb(&app, Method::POST, &format!("{b_users}/records"))
        .json(&creds)
        .reply()
        .await;
    assert_eq!(field_code(&dup_in_b, "email"), "validation_not_unique");

    let login_b = pb(&app, Method::POST, &format!("{b_users}/auth-with-password"))
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(login_b.status, 200, "{}", login_b.body);
    assert_eq!(login_b.body["record"]["id"], b_id);
    let b_token = login_b.body["token"].as_str().unwrap();
    let record = format!("{b_users}/records/{b_id}");
    let own = with_token(pb(&app, Method::GET, &record), Some(b_token))
        .reply()
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    let renamed = with_token(pb(&app, Method::PATCH, &record), Some(b_token))
        .json(&json!({"name": "Ann B"}))
        .reply()
        .await;
    assert_eq!(renamed.body["name"], "Ann B", "{}", renamed.body);
    let listed = with_token(
        pb(&app, Method::GET, &format!("{b_users}/records")),
        Some(b_token),
    )
    .reply()
    .await;
    assert_eq!(listed.body["totalItems"], 1, "{}", listed.body);
    let refreshed = with_token(
        pb(&app, Method::POST, &format!("{b_users}/auth-refresh")),
        Some(b_token),
    )
    .reply()
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);

    // B's token on the default project's URL is refused.
    let crossed = with_token(
        pb(
            &app,
            Method::GET,
            &format!("/p/default/api/collections/users/records/{b_id}"),
        ),
        Some(b_token),
    )
    .reply()
    .await;
    pb_error(&crossed, 403);

    // A superuser sees each project's users on its URL only.
    let root = superuser(&app).await;
    let b_list = with_token(
        pb(&app, Method::GET, &format!("{b_users}/records")),
        Some(&root),
    )
    .reply()
    .await;
    assert_eq!(b_list.body["totalItems"], 1, "{}", b_list.body);
    assert_eq!(b_list.body["items"][0]["id"], b_id);
    let default_list = list(&app, Some(&root), &[]).await;
    assert_eq!(default_list.body["totalItems"], 1, "{}", default_list.body);
    assert_ne!(default_list.body["items"][0]["id"], b_id);

    let gone = with_token(pb(&app, Method::DELETE, &record), Some(b_token))
        .reply()
        .await;
    assert_eq!(gone.status, 204);
    let unknown = pb(
        &app,
        Method::GET,
        "/p/no-such-project/api/collections/users/auth-methods",
    )
    .reply()
    .await;
    pb_error(&unknown, 404);
}

#[tokio::test]
async fn auth_methods_list_password_identities_and_nothing_else_enabled() {
    let app = TestApp::spawn().await;
    let expected = |identities: Value| {
        json!({
            "password": {"enabled": true, "identityFields": identities},
            "oauth2": {"enabled": false, "providers": []},
            "mfa": {"enabled": false, "duration": 0},
            "otp": {"enabled": false, "duration": 0},
        })
    };
    for path in [
        format!("{USERS}/auth-methods"),
        format!("{USERS}/auth-methods?fields=mfa,otp,password,oauth2"),
    ] {
        let res = pb(&app, Method::GET, &path).reply().await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert_eq!(res.body, expected(json!(["email"])));
    }
    let missing = pb(&app, Method::GET, "/api/collections/nosuch/auth-methods")
        .reply()
        .await;
    pb_error(&missing, 404);

    // A declared unique username becomes an identity field and logs in.
    let file = "[project]\nslug='default'\n[[collections]]\nname='users'\n[[collections.fields]]\nname='username'\ntype='text'\nunique=true\n";
    apply::apply_with(&app.services, &apply::parse(file).unwrap())
        .await
        .unwrap();
    let res = pb(&app, Method::GET, &format!("{USERS}/auth-methods"))
        .reply()
        .await;
    assert_eq!(res.body, expected(json!(["email", "username"])));
    let (_, id) = user(&app, "ann@example.com", json!({"username": "ann"})).await;
    let by_name = auth(&app, "ann", PW).await;
    assert_eq!(by_name.status, 200, "{}", by_name.body);
    assert_eq!(by_name.body["record"]["id"], id);
    assert_eq!(by_name.body["record"]["username"], "ann");
}

#[tokio::test]
async fn capabilities_this_server_lacks_answer_403_in_pocketbase_shape() {
    let app = TestApp::spawn().await;
    let posts = [
        "request-otp",
        "auth-with-otp",
        "request-password-reset",
        "confirm-password-reset",
        "request-verification",
        "confirm-verification",
        "request-email-change",
        "confirm-email-change",
        "impersonate/abc",
    ]
    .map(|p| format!("{USERS}/{p}"));
    let reqs = posts.iter().map(|p| {
        (
            p.clone(),
            pb(&app, Method::POST, p).json(&json!({"email": "a@example.com"})),
        )
    });
    for (path, req) in reqs {
        let res = req.reply().await;
        pb_error(&res, 403);
        assert_eq!(res.body["data"], json!({}), "{path}");
        let msg = res.body["message"].as_str().unwrap();
        assert!(msg.contains("not enabled"), "{path}: {msg}");
    }
}

#[tokio::test]
async fn realtime_opens_with_pb_connect_and_takes_subscriptions() {
    use futures_util::StreamExt;
    let app = TestApp::spawn().await;
    let res = app
        .http
        .get(format!("{}/api/realtime", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body = res.bytes_stream();
    let mut head = String::new();
    while !head.contains("\n\n") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        head.push_str(&String::from_utf8_lossy(&chunk));
    }
    let id = head
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        head.contains("event: PB_CONNECT") || head.contains("event:PB_CONNECT"),
        "{head}"
    );
    assert!(head.contains(&format!("\"clientId\":\"{id}\"")), "{head}");
    let ok = app
        .http
        .post(format!("{}/api/realtime", app.base))
        .json(&json!({"clientId": id, "subscriptions": ["users/*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 204);
    let unknown = app
        .http
        .post(format!("{}/api/realtime", app.base))
        .json(&json!({"clientId": "nope", "subscriptions": ["users/*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let bad = app
        .http
        .post(format!("{}/api/realtime", app.base))
        .json(&json!({"clientId": id, "subscriptions": "users/*"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
