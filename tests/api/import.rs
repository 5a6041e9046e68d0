//! `authgraph import`: Firebase (known scrypt parameters and the published
//! vector), CSV, Supabase, an interrupted import resumed, a dry run.
use std::path::Path;

use authgraph::domain::import::{self, Candidate, ImportRequest, Summary, firebase, supabase};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::helpers::{TestApp, postgres_admin_url};

fn request(dry_run: bool, batch_size: usize) -> ImportRequest<'static> {
    ImportRequest {
        project_slug: "default",
        collection: "users",
        dry_run,
        batch_size,
    }
}

async fn run(app: &TestApp, rows: Vec<Candidate>, dry_run: bool) -> Summary {
    import::run(&app.services, &request(dry_run, 100), rows, &mut |_| true)
        .await
        .unwrap()
}

async fn stored_hash(app: &TestApp, id: &str) -> String {
    entity::user::Entity::find_by_id(id)
        .one(&app.services.db)
        .await
        .unwrap()
        .expect("user row")
        .password_hash
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn logged_in_id(reply: &serde_json::Value) -> Option<&str> {
    reply["data"]["logIn"]["user"]["id"].as_str()
}

fn bcrypt_of(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

#[tokio::test]
async fn a_firebase_export_with_known_scrypt_parameters_logs_in_with_its_password_and_is_rehashed()
{
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    // Firebase's published test user and project parameters.
    let export = json!({"users": [
        {"localId": "fbUser1AbCdEfGhIjKlMnOpQrSt", "email": "user1@example.com", "emailVerified": true,
         "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
         "salt": "42xEC+ixf3L2lw==", "displayName": "User One", "createdAt": "1704189600123",
         "customAttributes": "{\"plan\":\"pro\"}"},
        {"localId": "fbUser2", "email": "oauth-only@example.com", "providerUserInfo": []},
        {"localId": "fbUser3", "passwordHash": "AAAA", "salt": "AAAA"}
    ]});
    let path = write(dir.path(), "users.json", &export.to_string());
    let params_file = write(
        dir.path(),
        "hash.json",
        r#"{"base64_signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
            "base64_salt_separator": "Bw==", "rounds": 8, "mem_cost": 14}"#,
    );
    let params = firebase::params_from_file(&params_file).unwrap();
    let summary = run(&app, firebase::read(&path, &params).unwrap(), false).await;
    assert_eq!(summary.imported, 2, "{summary:?}");
    assert_eq!(
        summary.skipped.get("invalid or missing email"),
        Some(&1),
        "{summary:?}"
    );
    let id = "fbUser1AbCdEfGhIjKlMnOpQrSt";
    assert!(stored_hash(&app, id).await.starts_with("$firebase-scrypt$"));
    assert!(logged_in_id(&app.log_in("user1@example.com", "user1passwore").await).is_none());
    let reply = app.log_in("user1@example.com", "user1password").await;
    assert_eq!(logged_in_id(&reply), Some(id), "{reply}");
    assert!(
        stored_hash(&app, id)
            .await
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    // After the rehash the same password still logs in.
    assert_eq!(
        logged_in_id(&app.log_in("user1@example.com", "user1password").await),
        Some(id)
    );
    let token = reply["data"]["logIn"]["token"].as_str().unwrap();
    let me = app.me(token).await;
    assert_eq!(
        me["data"]["me"]["data"],
        json!({"displayName": "User One", "plan": "pro"})
    );
    assert_eq!(me["data"]["me"]["verified"], true);
    // A user without a password cannot log in with any.
    assert!(logged_in_id(&app.log_in("oauth-only@example.com", "").await).is_none());
}

#[tokio::test]
async fn a_csv_with_bcrypt_and_argon2_hashes_keeps_ids_profile_columns_and_passwords() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let argon = app
        .services
        .passwords
        .hash("argon password 1")
        .await
        .unwrap();
    let csv = format!(
        "id,email,password_hash,verified,name,tags\n\
         keptid000000001,bcrypt@example.com,{},true,Bea,\"[\"\"a\"\",\"\"b\"\"]\"\n\
         ,argon@example.com,\"{argon}\",false,Al,\n\
         ,pbkdf2@example.com,$pbkdf2-sha256$29000$abc$def,false,,\n\
         ,BCRYPT@example.com,{},false,,\n",
        bcrypt_of("bcrypt password 1"),
        bcrypt_of("x")
    );
    let path = write(dir.path(), "users.csv", &csv);
    let summary = run(&app, import::csv::read(&path).unwrap(), false).await;
    assert_eq!(summary.imported, 2, "{summary:?}");
    assert_eq!(summary.skipped.get("unsupported password hash"), Some(&1));
    assert_eq!(summary.skipped.get("duplicate in the source"), Some(&1));
    let reply = app.log_in("bcrypt@example.com", "bcrypt password 1").await;
    assert_eq!(logged_in_id(&reply), Some("keptid000000001"), "{reply}");
    let me = app
        .me(reply["data"]["logIn"]["token"].as_str().unwrap())
        .await;
    assert_eq!(
        me["data"]["me"]["data"],
        json!({"name": "Bea", "tags": ["a", "b"]})
    );
    assert!(logged_in_id(&app.log_in("argon@example.com", "argon password 1").await).is_some());
}

#[tokio::test]
async fn a_supabase_users_csv_keeps_confirmed_banned_and_metadata_and_skips_deleted_users() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "id,email,encrypted_password,email_confirmed_at,raw_user_meta_data,banned_until,deleted_at,created_at\n\
         5c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f60,sb@example.com,{},2024-01-02 10:00:00.123+00,\"{{\"\"full_name\"\":\"\"Sue\"\"}}\",,,2024-01-01 09:00:00+00\n\
         6c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f61,banned@example.com,{},,{{}},2999-01-01 00:00:00+00,,2024-01-01 09:00:00+00\n\
         7c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f62,gone@example.com,{},,{{}},,2024-02-01 00:00:00+00,2024-01-01 09:00:00+00\n",
        bcrypt_of("supabase pw 1"),
        bcrypt_of("supabase pw 2"),
        bcrypt_of("supabase pw 3"),
    );
    let path = write(dir.path(), "auth_users.csv", &csv);
    let rows = supabase::read(path.to_str().unwrap()).await.unwrap();
    let summary = run(&app, rows, false).await;
    assert_eq!(summary.imported, 2, "{summary:?}");
    assert_eq!(summary.skipped.get("deleted in the source"), Some(&1));
    let reply = app.log_in("sb@example.com", "supabase pw 1").await;
    assert_eq!(
        logged_in_id(&reply),
        Some("5c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f60"),
        "{reply}"
    );
    let me = app
        .me(reply["data"]["logIn"]["token"].as_str().unwrap())
        .await;
    assert_eq!(me["data"]["me"]["verified"], true);
    assert_eq!(me["data"]["me"]["data"], json!({"full_name": "Sue"}));
    let banned = app.log_in("banned@example.com", "supabase pw 2").await;
    assert_eq!(
        crate::helpers::error_code(&banned),
        Some("ACCOUNT_DISABLED"),
        "{banned}"
    );
}

#[tokio::test]
async fn supabase_auth_users_are_read_from_a_postgres_url() {
    // The database of this test's own server stands in for Supabase's.
    if postgres_admin_url().is_none() {
        eprintln!("SQLite pass: the Postgres pass reads auth.users from a URL");
        return;
    }
    let app = TestApp::spawn().await;
    let hash = bcrypt_of("from postgres 1");
    app.services
        .db
        .execute_unprepared(&format!(
            "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, \
             encrypted_password text, email_confirmed_at timestamptz, raw_user_meta_data jsonb, \
             created_at timestamptz, updated_at timestamptz); \
             INSERT INTO auth.users VALUES ('8c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f63', 'pg@example.com', \
             '{hash}', now(), '{{\"avatar\": \"a.png\"}}', now(), now())"
        ))
        .await
        .unwrap();
    let rows = supabase::read(&app.database_url).await.unwrap();
    let summary = run(&app, rows, false).await;
    assert_eq!(summary.imported, 1, "{summary:?}");
    let reply = app.log_in("pg@example.com", "from postgres 1").await;
    assert_eq!(
        logged_in_id(&reply),
        Some("8c6a7b0e-0c43-4d6e-8f1a-1b2c3d4e5f63"),
        "{reply}"
    );
}

fn many_rows(n: usize, hash: &str) -> String {
    let mut csv = String::from("email,password_hash\n");
    for i in 0..n {
        csv.push_str(&format!("resume{i}@example.com,{hash}\n"));
    }
    csv
}

#[tokio::test]
async fn an_interrupted_import_resumes_skipping_the_rows_already_imported() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "many.csv",
        &many_rows(25, &bcrypt_of("resume pw")),
    );
    // Interrupted after the first batch (as Ctrl-C does).
    let mut batches = 0;
    let first = import::run(
        &app.services,
        &request(false, 10),
        import::csv::read(&path).unwrap(),
        &mut |_| {
            batches += 1;
            false
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (first.imported, first.interrupted, batches),
        (10, true, 1),
        "{first:?}"
    );
    let again = import::run(
        &app.services,
        &request(false, 10),
        import::csv::read(&path).unwrap(),
        &mut |_| true,
    )
    .await
    .unwrap();
    assert_eq!(again.imported, 15, "{again:?}");
    assert!(!again.interrupted);
    assert_eq!(
        again.skipped.get("already imported (email exists)"),
        Some(&10)
    );
    assert!(logged_in_id(&app.log_in("resume24@example.com", "resume pw").await).is_some());
}

#[tokio::test]
async fn a_dry_run_reports_what_it_would_import_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "dry.csv", &many_rows(3, &bcrypt_of("dry pw")));
    let summary = run(&app, import::csv::read(&path).unwrap(), true).await;
    assert_eq!((summary.imported, summary.dry_run), (3, true));
    assert!(logged_in_id(&app.log_in("resume0@example.com", "dry pw").await).is_none());
    let count = entity::user::Entity::find()
        .all(&app.services.db)
        .await
        .unwrap()
        .len();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn firebase_provider_accounts_become_identities_so_google_users_sign_in_as_before() {
    use crate::fake_oidc::FakeOidc;
    let fake = FakeOidc::start().await;
    let app = TestApp::spawn().await;
    let file = authgraph::domain::apply::parse(&fake.collection_toml_as("google")).unwrap();
    authgraph::domain::apply::apply_with(&app.services, &file)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let export = json!({"users": [
        {"localId": "fbGoogleUser", "email": "gina@example.com", "emailVerified": true,
         "providerUserInfo": [
            {"providerId": "google.com", "rawId": "google-sub-123", "email": "gina@gmail.com"},
            {"providerId": "facebook.com", "rawId": "fb-9"},
            {"providerId": "password", "rawId": "gina@example.com"}]},
        {"localId": "fbGithubUser", "email": "gil@example.com",
         "providerUserInfo": [{"providerId": "github.com", "rawId": "4242"},
            {"providerId": "twitter.com", "rawId": "tw-1"}, {"providerId": "google.com"}]}
    ]});
    let path = write(dir.path(), "users.json", &export.to_string());
    // GitHub's account 4242 already signs in as another user here: it stays theirs.
    let (_, other) = app.user("someone-else@example.com").await;
    let project = app.default_project().await;
    let users = app
        .services
        .catalog
        .collection_by_name(&app.services.db, &project.id, "users");
    let key = authgraph::store::oauth::IdentityKey {
        collection_id: &users.await.unwrap().id,
        provider: "github",
        subject: "4242",
    };
    authgraph::store::oauth::insert_identity(
        &app.services.db,
        "ident1",
        key,
        &other,
        None,
        false,
        0,
    )
    .await
    .unwrap();
    let params = firebase::params("AA==", "AA==", 8, 14).unwrap();
    let summary = run(&app, firebase::read(&path, &params).unwrap(), false).await;
    assert_eq!(
        (summary.imported, summary.identities),
        (2, 1),
        "{summary:?}"
    );
    let linked = "already linked to another user";
    assert_eq!(
        summary.identities_skipped.get(linked),
        Some(&1),
        "{summary:?}"
    );
    let skipped = &summary.identities_skipped;
    let unsupported = "not a provider authgraph signs in with";
    assert_eq!(
        skipped.get(&format!("facebook.com: {unsupported}")),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(
        skipped.get(&format!("twitter.com: {unsupported}")),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(skipped.get("google.com: no rawId"), Some(&1), "{summary:?}");
    // Google's account, now with another email than the imported one: the
    // identity, not the email, finds the imported user.
    let claims =
        json!({"sub": "google-sub-123", "email": "gina.new@example.com", "email_verified": true});
    let res = app
        .http
        .post(format!("{}/auth-collections/google-verify", app.base))
        .header("x-api-key", &app.pk)
        .json(&json!({"id_token": fake.id_token(claims)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], "fbGoogleUser", "{body}");
    // A second import links nothing twice.
    let again = run(&app, firebase::read(&path, &params).unwrap(), false).await;
    assert_eq!((again.imported, again.identities), (0, 0), "{again:?}");
}
