//! PocketBase's `?thumb=`: `100x100` always, declared sizes, the original
//! otherwise; generated once, kept beside the original and deleted with it.
use authgraph::domain::apply;
use image::{DynamicImage, ImageFormat, Rgba, RgbaImage};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{ReplyExt, TestApp};

const PW: &str = "correct horse battery";
const USERS: &str = "/api/collections/users";
const PROJECT: &str = r#"
[project]
slug = "default"

[[collections]]
name = "users"

[[collections.fields]]
name = "avatar"
type = "file"
thumbs = ["50x0", "40x30t", "0x20", "60x60f"]

[[collections.fields]]
name = "doc"
type = "file"
"#;

fn encoded(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| Rgba([(x % 256) as u8, 80, 160, 255]));
    let img = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img).to_rgb8()),
        _ => DynamicImage::ImageRgba8(img),
    };
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, format).unwrap();
    buf.into_inner()
}

async fn objects(app: &TestApp) -> Vec<String> {
    let project = app.default_project().await;
    app.services.files.keys(Some(&project.id)).await.unwrap()
}

async fn record_with(app: &TestApp, email: &str, field: &str, bytes: Vec<u8>, name: &str) -> Value {
    let form = Form::new()
        .text("email", email.to_owned())
        .text("password", PW)
        .text("passwordConfirm", PW)
        .part(
            field.to_owned(),
            Part::bytes(bytes).file_name(name.to_owned()),
        );
    let res = app
        .rest(Method::POST, &format!("{USERS}/records"))
        .multipart(form)
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

/// The served image's content type and dimensions.
async fn fetch(app: &TestApp, path: &str) -> (String, (u32, u32), Vec<u8>) {
    let res = app.rest(Method::GET, path).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap().to_vec();
    let img = image::load_from_memory(&bytes).unwrap();
    (ct, (img.width(), img.height()), bytes)
}

#[tokio::test]
async fn thumbnails_have_their_sizes_are_cached_and_go_with_the_file() {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(PROJECT).unwrap())
        .await
        .unwrap();
    let png = encoded(200, 100, ImageFormat::Png);
    let rec = record_with(&app, "t@example.com", "avatar", png.clone(), "a.png").await;
    let path = format!(
        "/api/files/users/{}/{}",
        rec["id"].as_str().unwrap(),
        rec["avatar"].as_str().unwrap()
    );
    let q = |t: &str| format!("{path}?thumb={t}");

    let (ct, dims, first) = fetch(&app, &q("100x100")).await;
    assert_eq!((ct.as_str(), dims), ("image/png", (100, 100)));
    assert_eq!(fetch(&app, &q("50x0")).await.1, (50, 25));
    assert_eq!(fetch(&app, &q("0x20")).await.1, (40, 20));
    assert_eq!(fetch(&app, &q("40x30t")).await.1, (40, 30));
    assert_eq!(fetch(&app, &q("60x60f")).await.1, (60, 30));
    assert_eq!(
        objects(&app).await.len(),
        6,
        "the original and five thumbnails"
    );
    // Served again from storage, not generated anew.
    let (_, _, again) = fetch(&app, &q("100x100")).await;
    assert_eq!(first, again);
    assert_eq!(objects(&app).await.len(), 6);
    // Sizes the field does not declare, and nonsense, serve the original.
    for other in ["60x60", "100x100t", "abc", "0x0", ""] {
        let (_, dims, bytes) = fetch(&app, &q(other)).await;
        assert_eq!(dims, (200, 100), "{other}");
        assert_eq!(bytes, png, "{other}");
    }
    assert_eq!(objects(&app).await.len(), 6);
    // A thumbnail has its own ETag.
    let a = app.rest(Method::GET, &q("100x100")).send().await.unwrap();
    let b = app.rest(Method::GET, &path).send().await.unwrap();
    assert_ne!(a.headers()["etag"], b.headers()["etag"]);

    // Clearing the field deletes the original and its thumbnails.
    let login = app
        .rest(Method::POST, &format!("{USERS}/auth-with-password"))
        .json(&json!({"identity": "t@example.com", "password": PW}))
        .reply()
        .await;
    let token = login.body["token"].as_str().unwrap();
    let res = app
        .rest(
            Method::PATCH,
            &format!("{USERS}/records/{}", rec["id"].as_str().unwrap()),
        )
        .bearer_auth(token)
        .json(&json!({"avatar": null}))
        .reply()
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(objects(&app).await.is_empty(), "{:?}", objects(&app).await);
}

#[tokio::test]
async fn jpeg_thumbnails_stay_jpeg_and_other_files_are_served_whole() {
    let app = TestApp::spawn().await;
    apply::apply_with(&app.services, &apply::parse(PROJECT).unwrap())
        .await
        .unwrap();
    let jpg = encoded(64, 128, ImageFormat::Jpeg);
    let rec = record_with(&app, "j@example.com", "avatar", jpg, "p.jpg").await;
    let path = format!(
        "/api/files/users/{}/{}",
        rec["id"].as_str().unwrap(),
        rec["avatar"].as_str().unwrap()
    );
    let (ct, dims, _) = fetch(&app, &format!("{path}?thumb=100x100")).await;
    assert_eq!((ct.as_str(), dims), ("image/jpeg", (100, 100)));
    // A GIF's thumbnail is a PNG of its first frame.
    let gif = encoded(30, 30, ImageFormat::Gif);
    let rec = record_with(&app, "g@example.com", "avatar", gif, "a.gif").await;
    let path = format!(
        "/api/files/users/{}/{}",
        rec["id"].as_str().unwrap(),
        rec["avatar"].as_str().unwrap()
    );
    let (ct, dims, _) = fetch(&app, &format!("{path}?thumb=100x100")).await;
    assert_eq!((ct.as_str(), dims), ("image/png", (100, 100)));
    // A PDF has no thumbnail: the original.
    let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
    let rec = record_with(&app, "p@example.com", "doc", pdf.clone(), "d.pdf").await;
    let path = format!(
        "/api/files/users/{}/{}?thumb=100x100",
        rec["id"].as_str().unwrap(),
        rec["doc"].as_str().unwrap()
    );
    let res = app.rest(Method::GET, &path).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
}
