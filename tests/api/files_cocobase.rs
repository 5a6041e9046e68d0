//! Files through Cocobase's door: multipart sign-up (`register_with_files`)
//! and account update (`update_user_with_files`, Bearer only), the file's
//! URL in `data.<field>`, errors in `{"detail"}`, nothing left behind.
use authgraph::domain::apply;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::files_pocketbase::{PNG, PROJECT};
use crate::helpers::{Reply, ReplyExt, TestApp, keys};

const PW: &str = "correct horse battery";

pub async fn app_with(project: &str) -> TestApp {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(project).unwrap())
        .await
        .unwrap();
    app
}

/// Every stored object of the test's project.
pub async fn objects(app: &TestApp) -> Vec<String> {
    let project = app.default_project().await;
    app.services.files.keys(Some(&project.id)).await.unwrap()
}

/// Neither an object nor a file row was left behind.
pub async fn assert_nothing_stored(app: &TestApp) {
    assert!(objects(app).await.is_empty());
    use sea_orm::EntityTrait;
    let rows = entity::file::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap();
    assert!(rows.is_empty());
}

fn file(bytes: &[u8], name: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

/// What `register_with_files` sends: `data` = the JSON body, one part per file.
fn register_form(email: &str, data: Value) -> Form {
    let body = json!({"email": email, "password": PW, "data": data, "roles": null});
    Form::new().text("data", body.to_string())
}

async fn signup(app: &TestApp, form: Form) -> Reply {
    app.rest(Method::POST, "/auth-collections/signup")
        .header("x-api-key", &app.pk)
        .multipart(form)
        .reply()
        .await
}

/// What `update_user_with_files` sends: only the Bearer token.
async fn update(app: &TestApp, token: &str, method: Method, form: Form) -> Reply {
    app.rest(method, "/auth-collections/user")
        .bearer_auth(token)
        .multipart(form)
        .reply()
        .await
}

/// The path of a URL the server answered with.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    &rest[rest.find('/').unwrap()..]
}

#[tokio::test]
async fn sign_up_with_a_file_then_replace_it_by_update() {
    let app = app_with(PROJECT).await;
    let res = signup(
        &app,
        register_form("ann@example.com", json!({"name": "Ann"}))
            .part("avatar", file(PNG, "Me.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.body["access_token"].is_string());
    let user = &res.body["user"];
    assert_eq!(user["data"]["name"], "Ann");
    let id = user["id"].as_str().unwrap().to_owned();
    let id = id.as_str();
    let url = user["data"]["avatar"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("/api/files/users/{id}/me_")) && url.ends_with(".png"),
        "{url}"
    );
    let got = app.rest(Method::GET, &url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);
    assert_eq!(objects(&app).await.len(), 1);
    let token = res.body["access_token"].as_str().unwrap().to_owned();

    // The current user shows the URL too.
    let me = app
        .rest(Method::GET, "/auth-collections/user")
        .bearer_auth(&token)
        .reply()
        .await;
    assert_eq!(me.body["data"]["avatar"], url.as_str(), "{}", me.body);

    // The SDK sends the merged profile back, URL included, with a new file.
    let mut gif = b"GIF89a".to_vec();
    gif.extend([1, 0, 1, 0, 0, 0, 0, b';']);
    let body = json!({"data": {"name": "Ann B", "avatar": url}});
    let form = Form::new()
        .text("data", body.to_string())
        .part("avatar", file(&gif, "new.gif"));
    let res = update(&app, &token, Method::PATCH, form).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(keys(&res.body).len(), 8, "{}", res.body);
    assert_eq!(res.body["data"]["name"], "Ann B");
    let new_url = res.body["data"]["avatar"].as_str().unwrap().to_owned();
    assert!(new_url.ends_with(".gif"), "{new_url}");
    let old = app.rest(Method::GET, &url).send().await.unwrap();
    assert_eq!(old.status(), 404);
    assert_eq!(objects(&app).await.len(), 1, "the old object is gone");

    // A JSON update sending the URL back keeps the file (PUT as documented).
    let res = app
        .rest(Method::PUT, "/auth-collections/user")
        .bearer_auth(&token)
        .json(&json!({"data": {"avatar": new_url, "city": "Oslo"}}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["avatar"], new_url.as_str());
    assert_eq!(res.body["data"]["city"], "Oslo");
    let got = app.rest(Method::GET, &new_url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    // A multipart PUT with only a file part works too.
    let form = Form::new().part("avatar", file(PNG, "again.png"));
    let res = update(&app, &token, Method::PUT, form).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(
        res.body["data"]["avatar"]
            .as_str()
            .unwrap()
            .ends_with(".png")
    );
    assert_eq!(objects(&app).await.len(), 1);
    // The admin list (secret key) shows the URL as well.
    let list = app
        .rest(Method::GET, "/auth-collections/users")
        .header("x-api-key", &app.sk)
        .reply()
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let mine = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap();
    assert!(
        mine["data"]["avatar"]
            .as_str()
            .unwrap()
            .starts_with("/api/files/users/"),
        "{mine}"
    );
    // And the user by id, for its owner.
    let one = app
        .rest(Method::GET, &format!("/auth-collections/users/{id}"))
        .header("x-api-key", &app.pk)
        .bearer_auth(&token)
        .reply()
        .await;
    assert_eq!(
        one.body["data"]["avatar"], mine["data"]["avatar"],
        "{}",
        one.body
    );
}

#[tokio::test]
async fn file_urls_are_absolute_with_a_public_url_and_undeclared_fields_link_too() {
    let app =
        TestApp::spawn_custom(None, |c| c.public_url = "https://id.example.com/".into()).await;
    apply::apply_with(&app.services, &apply::parse(PROJECT).unwrap())
        .await
        .unwrap();
    // `photo` is not declared: it takes the defaults and is still a file.
    let res = signup(
        &app,
        register_form("abs@example.com", Value::Null).part("photo", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let url = res.body["user"]["data"]["photo"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("https://id.example.com/api/files/users/"),
        "{url}"
    );
    let got = app.rest(Method::GET, path_of(&url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    // Sent back as read (the SDK merges the profile it holds), it stays.
    let token = res.body["access_token"].as_str().unwrap();
    let res = app
        .rest(Method::PATCH, "/auth-collections/user")
        .bearer_auth(token)
        .json(&json!({"data": {"photo": url, "name": "Abs"}}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["photo"], url.as_str(), "{}", res.body);
    let got = app.rest(Method::GET, path_of(&url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    // `update_user_with_files` without files: `requests` sends the `data`
    // field form-urlencoded.
    let body = json!({"data": {"photo": url, "name": "Abs 2"}}).to_string();
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("data", &body)
        .finish();
    let res = app
        .rest(Method::PATCH, "/auth-collections/user")
        .bearer_auth(token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encoded)
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["data"]["name"], "Abs 2");
    assert_eq!(res.body["data"]["photo"], url.as_str(), "{}", res.body);
    assert_eq!(objects(&app).await.len(), 1);
}

#[tokio::test]
async fn oversized_mistyped_and_failed_uploads_leave_nothing_behind() {
    let app = app_with(PROJECT).await;
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(vec![b'%'; 2048]);
    let res = signup(
        &app,
        register_form("big@example.com", json!({})).part("tiny", file(&pdf, "a.pdf")),
    )
    .await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert_eq!(keys(&res.body), ["detail"], "{}", res.body);
    // HTML named .png is refused by its bytes.
    let html = Part::bytes(b"<html><script>alert(1)</script>".to_vec())
        .file_name("x.png")
        .mime_str("image/png")
        .unwrap();
    let res = signup(
        &app,
        register_form("html@example.com", json!({})).part("avatar", html),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(keys(&res.body), ["detail"], "{}", res.body);
    // A taken email fails after the file was stored whole.
    let first = signup(&app, register_form("dup@example.com", json!({}))).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let token = first.body["access_token"].as_str().unwrap().to_owned();
    let res = signup(
        &app,
        register_form("dup@example.com", json!({})).part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    // An update that fails (a file named in a text field) stores nothing.
    let res = update(
        &app,
        &token,
        Method::PATCH,
        Form::new()
            .text(
                "data",
                json!({"data": {"docs": ["not-mine.png"]}}).to_string(),
            )
            .part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let res = update(
        &app,
        &token,
        Method::PATCH,
        Form::new().part("tiny", file(&pdf, "a.pdf")),
    )
    .await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert_eq!(keys(&res.body), ["detail"]);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn sign_up_with_files_answers_requires_2fa_like_plain_sign_up() {
    let project = PROJECT.replace(
        "name = \"users\"\n",
        "name = \"users\"\nsecond_factor = 'required'\n",
    );
    let app = app_with(&project).await;
    let res = signup(
        &app,
        register_form("two@example.com", json!({})).part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["requires_2fa"], true, "{}", res.body);
    assert!(res.body.get("access_token").is_none(), "{}", res.body);
    // The account exists with its file.
    assert_eq!(objects(&app).await.len(), 1);
}
