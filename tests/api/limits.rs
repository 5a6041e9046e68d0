//! Rate limits and account lockout (security checklist §5.2, items 9–12), in
//! every front door's shape.

use authgraph::domain::{limits, superusers};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{ReplyExt, TestApp, error_code};

const PW: &str = "correct horse battery";

async fn limited_app(edit: impl FnOnce(&mut authgraph::config::Config)) -> TestApp {
    TestApp::spawn_custom(None, edit).await
}

fn retry_after(reply: &crate::helpers::Reply) -> u64 {
    reply
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After on {reply:?}"))
}

#[tokio::test]
async fn log_ins_per_address_are_limited_in_every_dialect() {
    let app = limited_app(|c| c.login_limit_per_ip = 3).await;
    app.user("ann@example.com").await;
    // Wrong and right passwords count alike.
    assert!(app.log_in("ann@example.com", "wrong password!").await["errors"].is_array());
    assert!(app.log_in("nobody@example.com", PW).await["errors"].is_array());
    assert!(app.log_in("ann@example.com", PW).await["data"]["logIn"]["token"].is_string());

    // The fourth attempt in the window is refused, even with the right password.
    let gql = app.log_in("ann@example.com", PW).await;
    assert_eq!(error_code(&gql), Some("RATE_LIMITED"), "{gql}");
    let wait = gql["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert!(gql["data"].is_null() || gql["data"]["logIn"].is_null());

    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .header("x-api-key", &app.pk)
        .json(&json!({"identity": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(pb.status, 429, "{:?}", pb.body);
    assert_eq!(
        pb.body,
        json!({"status": 429, "message": "Too Many Requests.", "data": {}})
    );
    assert!(retry_after(&pb) >= 1);

    let ub = app
        .rest(Method::POST, "/api/userAuth/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(ub.status, 429, "{:?}", ub.body);
    assert_eq!(ub.body["success"], false);
    assert_eq!(ub.body["code"], 429);
    assert!(retry_after(&ub) >= 1);

    let coco = app
        .rest(Method::POST, "/auth-collections/login")
        .header("x-api-key", &app.pk)
        .json(&json!({"email": "ann@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(coco.status, 429, "{:?}", coco.body);
    assert!(coco.body["detail"].as_str().unwrap().contains("try again"));
    assert!(retry_after(&coco) >= 1);
}

#[tokio::test]
async fn aliased_log_ins_in_one_request_count_one_by_one() {
    let app = limited_app(|c| c.login_limit_per_ip = 5).await;
    app.user("ann@example.com").await;
    let fields: String = (0..20)
        .map(|i| format!("a{i}: logIn(input: {{email: \"ann@example.com\", password: \"guess {i:02} guess\"}}) {{ token }} "))
        .collect();
    let res = app
        .gql(
            Some(&app.pk),
            None,
            &format!("mutation {{ {fields} }}"),
            json!({}),
        )
        .await;
    let codes: Vec<&str> = res["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert_eq!(codes.len(), 20, "{res}");
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "INVALID_CREDENTIALS")
            .count(),
        5
    );
    assert_eq!(codes.iter().filter(|c| **c == "RATE_LIMITED").count(), 15);
}

#[tokio::test]
async fn forwarded_for_headers_from_untrusted_peers_do_not_reset_the_bucket() {
    let app = limited_app(|c| c.login_limit_per_ip = 2).await;
    let attempt = |xff: String| {
        app.rest(Method::POST, "/api/collections/users/auth-with-password")
            .header("x-api-key", &app.pk)
            .header("x-forwarded-for", xff)
            .json(&json!({"identity": "ann@example.com", "password": PW}))
            .reply()
    };
    let statuses = [
        attempt("198.51.100.1".into()).await.status,
        attempt("198.51.100.2".into()).await.status,
        attempt("198.51.100.3".into()).await.status,
    ];
    assert_eq!(statuses, [400, 400, 429]);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let app = limited_app(|c| {
        c.login_limit_per_ip = 1;
        c.trusted_proxies = "127.0.0.1/32, ::1".into();
    })
    .await;
    let attempt = |xff: &'static str| {
        app.rest(Method::POST, "/api/collections/users/auth-with-password")
            .header("x-api-key", &app.pk)
            .header("x-forwarded-for", xff)
            .json(&json!({"identity": "ann@example.com", "password": PW}))
            .reply()
    };
    assert_eq!(attempt("198.51.100.1").await.status, 400);
    assert_eq!(attempt("198.51.100.2").await.status, 400);
    // What the client wrote left of the proxy's entry proves nothing.
    assert_eq!(attempt("203.0.113.5, 198.51.100.1").await.status, 429);
    assert_eq!(attempt("198.51.100.2").await.status, 429);
}

#[tokio::test]
async fn sign_ups_per_address_are_limited_but_not_an_administrators_creations() {
    let app = limited_app(|c| c.signup_limit_per_ip = 2).await;
    app.user("a@example.com").await;
    app.user("b@example.com").await;
    let third = app.sign_up("c@example.com", PW, json!({})).await;
    assert_eq!(error_code(&third), Some("RATE_LIMITED"), "{third}");

    let pb = |key: &str, email: &str| {
        app.rest(Method::POST, "/api/collections/users/records")
            .header("x-api-key", key)
            .json(&json!({"email": email, "password": PW, "passwordConfirm": PW}))
            .reply()
    };
    assert_eq!(pb(&app.pk, "d@example.com").await.status, 429);
    let admin = pb(&app.sk, "e@example.com").await;
    assert_eq!(admin.status, 200, "{:?}", admin.body);
}

async fn pb_auth(
    app: &TestApp,
    collection: &str,
    email: &str,
    password: &str,
) -> crate::helpers::Reply {
    app.rest(
        Method::POST,
        &format!("/api/collections/{collection}/auth-with-password"),
    )
    .header("x-api-key", &app.pk)
    .json(&json!({"identity": email, "password": password}))
    .reply()
    .await
}

#[tokio::test]
async fn failed_log_ins_lock_the_identifier_known_or_not_until_the_window_ends() {
    let app = limited_app(|c| {
        c.lockout_failures = 3;
        // Long enough for six failed log-ins and the checks on a loaded
        // machine (at 2 s the window once ended before the check); its end is
        // then simulated by moving the windows back.
        c.lockout_secs = 600;
    })
    .await;
    app.user("ann@example.com").await;
    for email in ["ann@example.com", "ghost@example.com"] {
        for _ in 0..3 {
            let res = app.log_in(email, "wrong password!").await;
            assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");
        }
    }
    // Locked: the right password is refused too, and an unknown email looks
    // exactly like a known one.
    let known = app.log_in("ann@example.com", PW).await;
    let unknown = app.log_in("ghost@example.com", PW).await;
    assert_eq!(error_code(&known), Some("RATE_LIMITED"), "{known}");
    assert_eq!(error_code(&unknown), Some("RATE_LIMITED"), "{unknown}");
    assert_eq!(
        known["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    // Case does not make another identifier.
    assert_eq!(
        error_code(&app.log_in(" ANN@example.com", PW).await),
        Some("RATE_LIMITED")
    );
    // Another account is not affected.
    app.user("bob@example.com").await;
    assert!(app.log_in("bob@example.com", PW).await["data"]["logIn"].is_object());

    {
        use sea_orm::ConnectionTrait;
        app.services
            .db
            .execute_unprepared("UPDATE rate_limits SET window_start = window_start - 601")
            .await
            .unwrap();
    }
    let after = app.log_in("ann@example.com", PW).await;
    assert!(after["data"]["logIn"]["token"].is_string(), "{after}");
    // The server's periodic purge drops ended windows (ghost's, at least).
    let purged = limits::purge(&app.services.db, 1).await.unwrap();
    assert!(purged >= 1, "{purged}");
    // A success forgets earlier failures: two more do not lock again.
    for _ in 0..2 {
        app.log_in("ann@example.com", "wrong password!").await;
    }
    assert!(app.log_in("ann@example.com", PW).await["data"]["logIn"].is_object());
}

#[tokio::test]
async fn a_password_set_by_a_superuser_lifts_the_lock_and_superusers_lock_too() {
    let app = limited_app(|c| {
        c.lockout_failures = 2;
        c.lockout_secs = 600;
    })
    .await;
    let (_, id) = app.user("ann@example.com").await;
    for _ in 0..2 {
        app.log_in("ann@example.com", "wrong password!").await;
    }
    assert_eq!(
        pb_auth(&app, "users", "ann@example.com", PW).await.status,
        429
    );

    superusers::upsert(&app.services, "root@example.com", "superuser password")
        .await
        .unwrap();
    let root = pb_auth(
        &app,
        "_superusers",
        "root@example.com",
        "superuser password",
    )
    .await;
    assert_eq!(root.status, 200, "{:?}", root.body);
    let token = root.body["token"].as_str().unwrap().to_owned();
    let new_pw = "a brand new password";
    let reset = app
        .rest(
            Method::PATCH,
            &format!("/api/collections/users/records/{id}"),
        )
        .header("authorization", &token)
        .json(&json!({"password": new_pw, "passwordConfirm": new_pw}))
        .reply()
        .await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    assert_eq!(
        pb_auth(&app, "users", "ann@example.com", new_pw)
            .await
            .status,
        200
    );

    // Superusers' log-ins lock the same way, and the CLI's upsert unlocks.
    for _ in 0..2 {
        assert_eq!(
            pb_auth(&app, "_superusers", "root@example.com", "not the password")
                .await
                .status,
            400
        );
    }
    let locked = pb_auth(
        &app,
        "_superusers",
        "root@example.com",
        "superuser password",
    )
    .await;
    assert_eq!(locked.status, 429);
    superusers::upsert(&app.services, "root@example.com", "superuser password")
        .await
        .unwrap();
    assert_eq!(
        pb_auth(
            &app,
            "_superusers",
            "root@example.com",
            "superuser password"
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn limits_are_shared_by_instances_on_one_database() {
    if crate::helpers::postgres_admin_url().is_none() {
        // One SQLite file belongs to one server; the Postgres pass covers this.
        return;
    }
    let a = limited_app(|c| c.login_limit_per_ip = 2).await;
    let url = a.database_url.clone();
    let b = limited_app(move |c| {
        c.login_limit_per_ip = 2;
        c.database_url = url;
    })
    .await;
    let q = "mutation { logIn(input: {email: \"x@example.com\", password: \"correct horse battery\"}) { token } }";
    let mut codes = Vec::new();
    for app in [&a, &b, &a, &b] {
        let res = app.gql(Some(&a.pk), None, q, json!({})).await;
        codes.push(error_code(&res).map(str::to_owned));
    }
    let limited = codes
        .iter()
        .filter(|c| c.as_deref() == Some("RATE_LIMITED"))
        .count();
    assert_eq!(limited, 2, "{codes:?}");
}
