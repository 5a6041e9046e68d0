//! Files through PocketBase's door: multipart create and update, the file
//! URL (type, length, ETag, ranges, safe headers), protected files with file
//! tokens, and nothing left in storage when a change fails.
use authgraph::domain::apply;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::files_cocobase::{assert_nothing_stored, objects};
use crate::helpers::{Reply, ReplyExt, TestApp};

const PW: &str = "correct horse battery";
const USERS: &str = "/api/collections/users";
/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub const PROJECT: &str = r#"
[project]
slug = "default"

[[collections]]
name = "users"

[[collections.fields]]
name = "avatar"
type = "file"
public = true

[[collections.fields]]
name = "docs"
type = "file"
many = true
max_select = 2

[[collections.fields]]
name = "tiny"
type = "file"
max_size = 1024

[[collections.fields]]
name = "secret"
type = "file"
protected = true
"#;

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(PROJECT).unwrap())
        .await
        .unwrap();
    app
}

fn credentials(email: &str) -> Form {
    Form::new()
        .text("email", email.to_owned())
        .text("password", PW)
        .text("passwordConfirm", PW)
}

fn file(bytes: &[u8], name: &str) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

async fn create(app: &TestApp, form: Form) -> Reply {
    app.rest(Method::POST, &format!("{USERS}/records"))
        .multipart(form)
        .reply()
        .await
}

async fn log_in(app: &TestApp, email: &str) -> String {
    let res = app
        .rest(Method::POST, &format!("{USERS}/auth-with-password"))
        .json(&json!({"identity": email, "password": PW}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["token"].as_str().unwrap().to_owned()
}

async fn update(app: &TestApp, token: &str, id: &str, form: Form) -> Reply {
    app.rest(Method::PATCH, &format!("{USERS}/records/{id}"))
        .bearer_auth(token)
        .multipart(form)
        .reply()
        .await
}

fn url(record: &Value, field: &str) -> String {
    format!(
        "/api/files/users/{}/{}",
        record["id"].as_str().unwrap(),
        record[field].as_str().unwrap()
    )
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.rest(Method::GET, path).send().await.unwrap()
}

#[tokio::test]
async fn a_file_is_uploaded_served_replaced_and_cleared() {
    let app = app().await;
    let res = create(
        &app,
        credentials("ann@example.com")
            .text("name", "Ann")
            .part("avatar", file(PNG, "../../me.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let record = res.body.clone();
    let name = record["avatar"].as_str().unwrap();
    assert!(name.starts_with("me_") && name.ends_with(".png"), "{name}");
    assert_eq!(record["docs"], json!([]));
    let stored = objects(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(".."), "{stored:?}");

    let got = get(&app, &url(&record, "avatar")).await;
    assert_eq!(got.status(), 200);
    let h = got.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["content-length"], PNG.len().to_string().as_str());
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"me_")
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(got.bytes().await.unwrap().as_ref(), PNG);

    let again = app
        .rest(Method::GET, &url(&record, "avatar"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let part = app
        .rest(Method::GET, &url(&record, "avatar"))
        .header("range", "bytes=1-3")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1-3/{}", PNG.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &PNG[1..4]);
    let download = get(&app, &format!("{}?download=1", url(&record, "avatar"))).await;
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );

    // Replacing the file deletes the old object once the change is in.
    let token = log_in(&app, "ann@example.com").await;
    let id = record["id"].as_str().unwrap();
    let res = update(
        &app,
        &token,
        id,
        Form::new().part("avatar", file(PNG, "new.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_ne!(res.body["avatar"], record["avatar"]);
    assert_eq!(get(&app, &url(&record, "avatar")).await.status(), 404);
    assert_eq!(get(&app, &url(&res.body, "avatar")).await.status(), 200);
    assert_eq!(objects(&app).await.len(), 1);

    // Many files: appended with `docs+`, removed with `docs-`.
    let res = update(
        &app,
        &token,
        id,
        Form::new()
            .part("docs", file(b"%PDF-1.4 one", "a.pdf"))
            .part("docs+", file(b"%PDF-1.4 two", "b.pdf")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let docs = res.body["docs"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 2, "{}", res.body);
    let third = update(
        &app,
        &token,
        id,
        Form::new().part("docs+", file(b"%PDF-1.4 3", "c.pdf")),
    )
    .await;
    assert_eq!(third.status, 400, "at most 2: {}", third.body);
    let res = update(
        &app,
        &token,
        id,
        Form::new().text("docs-", docs[0].as_str().unwrap().to_owned()),
    )
    .await;
    assert_eq!(res.body["docs"], json!([docs[1]]));
    assert_eq!(objects(&app).await.len(), 2);

    // JSON clears a field, and cannot name a file the field does not hold.
    let res = app
        .rest(Method::PATCH, &format!("{USERS}/records/{id}"))
        .bearer_auth(&token)
        .json(&json!({"avatar": "someone_elses.png"}))
        .reply()
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
    let res = app
        .rest(Method::PATCH, &format!("{USERS}/records/{id}"))
        .bearer_auth(&token)
        .json(&json!({"avatar": "", "docs": null}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["avatar"], "");
    assert_eq!(res.body["docs"], json!([]));
    assert!(objects(&app).await.is_empty());
}

#[tokio::test]
async fn oversized_and_mistyped_files_are_refused_and_not_stored() {
    let app = app().await;
    let big = vec![b'%'; 2048];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(big);
    let res = create(
        &app,
        credentials("big@example.com").part("tiny", file(&pdf, "a.pdf")),
    )
    .await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert_eq!(res.body["status"], 413);
    // HTML named .png with an image type is still HTML.
    let html = Part::bytes(b"<html><script>alert(1)</script>".to_vec())
        .file_name("x.png")
        .mime_str("image/png")
        .unwrap();
    let res = create(&app, credentials("html@example.com").part("avatar", html)).await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(res.body["data"]["avatar"].is_object(), "{}", res.body);
    // A file part for a text field.
    let res = create(
        &app,
        credentials("t@example.com").part("email", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert!(objects(&app).await.is_empty());
}

#[tokio::test]
async fn a_failure_after_storing_leaves_no_object_and_no_row() {
    let app = app().await;
    let first = create(&app, credentials("dup@example.com")).await;
    assert_eq!(first.status, 200);
    // The email is taken: the insert fails after the file was stored whole.
    let res = create(
        &app,
        credentials("dup@example.com").part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_file_part_to_someone_elses_record_is_refused() {
    let app = app().await;
    let ann = create(&app, credentials("ann@example.com")).await.body;
    create(&app, credentials("bob@example.com")).await;
    let bob = log_in(&app, "bob@example.com").await;
    let res = update(
        &app,
        &bob,
        ann["id"].as_str().unwrap(),
        Form::new().part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert!(objects(&app).await.is_empty());
}

#[tokio::test]
async fn protected_files_need_a_fresh_file_token_of_someone_who_may_view_the_record() {
    let app = app().await;
    let res = create(
        &app,
        credentials("p@example.com").part("secret", file(PNG, "s.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let path = url(&res.body, "secret");
    assert_eq!(get(&app, &path).await.status(), 403);
    let anonymous = app.rest(Method::POST, "/api/files/token").reply().await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let token = log_in(&app, "p@example.com").await;
    // The access token itself is not a file token.
    assert_eq!(
        get(&app, &format!("{path}?token={token}")).await.status(),
        403
    );
    let ft = app
        .rest(Method::POST, "/api/files/token")
        .bearer_auth(&token)
        .reply()
        .await;
    assert_eq!(ft.status, 200, "{}", ft.body);
    let file_token = ft.body["token"].as_str().unwrap();
    let ok = get(&app, &format!("{path}?token={file_token}")).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["cache-control"], "private, no-store");
    // Someone else's file token does not open it.
    create(&app, credentials("q@example.com")).await;
    let other = log_in(&app, "q@example.com").await;
    let other_ft = app
        .rest(Method::POST, "/api/files/token")
        .bearer_auth(&other)
        .reply()
        .await;
    let other_ft = other_ft.body["token"].as_str().unwrap();
    assert_eq!(
        get(&app, &format!("{path}?token={other_ft}"))
            .await
            .status(),
        403
    );
    // An expired one neither; and a file token is not an access token.
    let mut claims = app.services.tokens.verify(file_token).unwrap();
    claims.iat -= 7200;
    claims.exp = chrono::Utc::now().timestamp() - 60;
    let expired = app.services.tokens.sign(&claims).unwrap();
    assert_eq!(
        get(&app, &format!("{path}?token={expired}")).await.status(),
        403
    );
    let me = app
        .rest(Method::GET, &format!("{USERS}/records/{}", claims.sub))
        .bearer_auth(file_token)
        .reply()
        .await;
    assert_eq!(me.status, 404, "{}", me.body);
}

#[tokio::test]
async fn deleting_a_user_deletes_its_files() {
    let app = app().await;
    let rec = create(
        &app,
        credentials("d@example.com").part("avatar", file(PNG, "a.png")),
    )
    .await;
    assert_eq!(objects(&app).await.len(), 1);
    let token = log_in(&app, "d@example.com").await;
    let res = app
        .rest(
            Method::DELETE,
            &format!("{USERS}/records/{}", rec.body["id"].as_str().unwrap()),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(objects(&app).await.is_empty());
}

#[tokio::test]
async fn svg_is_served_sandboxed_and_undeclared_file_parts_take_the_defaults() {
    let app = TestApp::spawn().await;
    let file_decl = "[project]\nslug='default'\n[[collections]]\nname='users'\n[[collections.fields]]\nname='logo'\ntype='file'\nmime_types=['image/*']\n";
    apply::apply_with(&app.services, &apply::parse(file_decl).unwrap())
        .await
        .unwrap();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let res = create(
        &app,
        credentials("s@example.com")
            .part("logo", file(svg, "x.svg"))
            .part("extra", file(PNG, "e.png")),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let got = get(&app, &url(&res.body, "logo")).await;
    assert_eq!(got.headers()["content-type"], "image/svg+xml");
    let csp = got.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(get(&app, &url(&res.body, "extra")).await.status(), 200);
    // An undeclared part takes the default types: no SVG there.
    let res = create(
        &app,
        credentials("t@example.com").part("other", file(svg, "x.svg")),
    )
    .await;
    assert_eq!(res.status, 400, "{}", res.body);
}
