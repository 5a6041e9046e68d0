use std::time::Duration;

use authgraph::domain::projects;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

const REFRESH: &str =
    "mutation($t: String!) { refreshToken(refreshToken: $t) { token refreshToken sessionId } }";

async fn log_in_full(app: &TestApp, email: &str, password: &str) -> Value {
    let res = app
        .gql(
            Some(&app.pk),
            None,
            "mutation($i: LogInInput!) { logIn(input: $i) { token refreshToken sessionId expiresIn } }",
            json!({"i": {"email": email, "password": password}}),
        )
        .await;
    res["data"]["logIn"].clone()
}

async fn refresh(app: &TestApp, rt: &str) -> Value {
    app.gql(None, None, REFRESH, json!({"t": rt})).await
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

#[tokio::test]
async fn refresh_rotates_and_racing_refreshes_share_one_successor() {
    let app = TestApp::spawn().await;
    app.user("rot@example.com").await;
    let login = log_in_full(&app, "rot@example.com", "correct horse battery").await;
    assert_eq!(login["expiresIn"], 900);
    let rt0 = s(&login["refreshToken"]);

    let (a, b) = tokio::join!(refresh(&app, &rt0), refresh(&app, &rt0));
    let (a, b) = (&a["data"]["refreshToken"], &b["data"]["refreshToken"]);
    assert!(a.is_object() && b.is_object(), "{a} {b}");
    assert_eq!(
        a["refreshToken"], b["refreshToken"],
        "both racers get the same successor"
    );
    assert_ne!(s(&a["refreshToken"]), rt0);
    assert_eq!(a["sessionId"], login["sessionId"]);

    // Still one session for this log-in (plus the sign-up's), and the new access token works.
    let token = s(&a["token"]);
    let sessions = app
        .gql(None, Some(&token), "{ sessions { id current } }", json!({}))
        .await;
    let list = sessions["data"]["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{sessions}");
    assert_eq!(list.iter().filter(|x| x["current"] == true).count(), 1);
    assert!(list.contains(&json!({"id": login["sessionId"], "current": true})));

    // The successor rotates on.
    let next = refresh(&app, &s(&a["refreshToken"])).await;
    assert!(
        next["data"]["refreshToken"]["refreshToken"].is_string(),
        "{next}"
    );
}

#[tokio::test]
async fn a_refresh_token_replayed_after_the_grace_window_revokes_the_session() {
    let app = TestApp::spawn().await;
    app.user("replay@example.com").await;
    let login = log_in_full(&app, "replay@example.com", "correct horse battery").await;
    let rt0 = s(&login["refreshToken"]);
    let first = refresh(&app, &rt0).await;
    let rt1 = s(&first["data"]["refreshToken"]["refreshToken"]);
    let access = s(&first["data"]["refreshToken"]["token"]);

    tokio::time::sleep(Duration::from_millis(2500)).await; // test grace window: 2 s
    let replay = refresh(&app, &rt0).await;
    assert_eq!(error_code(&replay), Some("TOKEN_REUSED"), "{replay}");
    // The successor and the session's access tokens die with it.
    assert!(error_code(&refresh(&app, &rt1).await).is_some());
    assert_eq!(error_code(&app.me(&access).await), Some("INVALID_TOKEN"));
}

#[tokio::test]
async fn log_out_ends_the_session_at_once() {
    let app = TestApp::spawn().await;
    app.user("out@example.com").await;
    let one = log_in_full(&app, "out@example.com", "correct horse battery").await;
    let two = log_in_full(&app, "out@example.com", "correct horse battery").await;
    let res = app
        .gql(
            None,
            Some(&s(&one["token"])),
            "mutation { logOut }",
            json!({}),
        )
        .await;
    assert_eq!(res["data"]["logOut"], 1);
    assert_eq!(
        error_code(&app.me(&s(&one["token"])).await),
        Some("INVALID_TOKEN")
    );
    assert_eq!(
        error_code(&refresh(&app, &s(&one["refreshToken"])).await),
        Some("INVALID_TOKEN")
    );
    // The other session lives until logOut(all).
    assert!(app.me(&s(&two["token"])).await["data"]["me"].is_object());
    let three = log_in_full(&app, "out@example.com", "correct horse battery").await;
    let res = app
        .gql(
            None,
            Some(&s(&three["token"])),
            "mutation { logOut(all: true) }",
            json!({}),
        )
        .await;
    assert_eq!(
        res["data"]["logOut"], 3,
        "the sign-up's session, two and three"
    );
    assert_eq!(
        error_code(&app.me(&s(&two["token"])).await),
        Some("INVALID_TOKEN")
    );
    assert!(error_code(&refresh(&app, &s(&two["refreshToken"])).await).is_some());
}

#[tokio::test]
async fn a_password_change_ends_other_sessions_and_keeps_the_current_one() {
    let app = TestApp::spawn().await;
    app.user("pw@example.com").await;
    let a = log_in_full(&app, "pw@example.com", "correct horse battery").await;
    let b = log_in_full(&app, "pw@example.com", "correct horse battery").await;
    let res = app
        .gql(
            None,
            Some(&s(&a["token"])),
            "mutation { changePassword(input: {currentPassword: \"correct horse battery\", newPassword: \"brand new words\"}) { token sessionId } }",
            json!({}),
        )
        .await;
    assert_eq!(res["data"]["changePassword"]["sessionId"], a["sessionId"]);
    assert_eq!(
        error_code(&app.me(&s(&b["token"])).await),
        Some("INVALID_TOKEN")
    );
    assert!(error_code(&refresh(&app, &s(&b["refreshToken"])).await).is_some());
    // The current session's refresh token still works and mints a valid token.
    let again = refresh(&app, &s(&a["refreshToken"])).await;
    let token = s(&again["data"]["refreshToken"]["token"]);
    assert!(app.me(&token).await["data"]["me"].is_object());
}

#[tokio::test]
async fn disabling_a_user_kills_refresh_too() {
    let app = TestApp::spawn().await;
    let (_, id) = app.user("dis2@example.com").await;
    let a = log_in_full(&app, "dis2@example.com", "correct horse battery").await;
    app.gql(
        Some(&app.sk),
        None,
        "mutation($id: String!) { disableUser(id: $id) { id } }",
        json!({"id": id}),
    )
    .await;
    assert!(error_code(&refresh(&app, &s(&a["refreshToken"])).await).is_some());
}

#[tokio::test]
async fn expired_and_foreign_refresh_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.user("exp2@example.com").await;
    let a = log_in_full(&app, "exp2@example.com", "correct horse battery").await;
    let b = log_in_full(&app, "exp2@example.com", "correct horse battery").await;

    // A refresh token presented with another project's key.
    let other = projects::create(&app.services.db, "Other", None)
        .await
        .unwrap();
    let res = app
        .gql(
            Some(&other.publishable_key),
            None,
            REFRESH,
            json!({"t": s(&a["refreshToken"])}),
        )
        .await;
    assert_eq!(error_code(&res), Some("INVALID_TOKEN"));
    // ... and it changed nothing: the owner's refresh still rotates normally.
    let own = refresh(&app, &s(&a["refreshToken"])).await;
    assert!(
        own["data"]["refreshToken"]["refreshToken"].is_string(),
        "{own}"
    );

    // An expired session.
    let db = &app.services.db;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).into();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "UPDATE sessions SET expires_at = $1 WHERE id = $2",
        _ => "UPDATE sessions SET expires_at = ? WHERE id = ?",
    };
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [past, s(&b["sessionId"]).into()],
    ))
    .await
    .unwrap();
    assert_eq!(
        error_code(&refresh(&app, &s(&b["refreshToken"])).await),
        Some("INVALID_TOKEN")
    );
    assert_eq!(
        error_code(&app.me(&s(&b["token"])).await),
        Some("INVALID_TOKEN")
    );

    // Garbage and tampered tokens.
    for bad in ["", "nope", "abc.0.xyz"] {
        assert_eq!(
            error_code(&refresh(&app, bad).await),
            Some("INVALID_TOKEN"),
            "{bad}"
        );
    }
    let rt = s(&a["refreshToken"]);
    let (sid, rest) = rt.split_once('.').unwrap();
    let tampered = format!("{sid}.5{}", &rest[1..]);
    assert_eq!(
        error_code(&refresh(&app, &tampered).await),
        Some("INVALID_TOKEN")
    );
}

#[tokio::test]
async fn users_list_and_revoke_their_sessions_and_admins_can_end_all() {
    let app = TestApp::spawn().await;
    let (_, id) = app.user("many@example.com").await;
    let a = log_in_full(&app, "many@example.com", "correct horse battery").await;
    let b = log_in_full(&app, "many@example.com", "correct horse battery").await;
    let list = app
        .gql(
            None,
            Some(&s(&a["token"])),
            "{ sessions { id current } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["sessions"].as_array().unwrap().len(),
        3,
        "sign-up and two log-ins"
    );
    let res = app
        .gql(
            None,
            Some(&s(&a["token"])),
            "mutation($id: String!) { revokeSession(id: $id) }",
            json!({"id": b["sessionId"]}),
        )
        .await;
    assert_eq!(res["data"]["revokeSession"], true);
    assert_eq!(
        error_code(&app.me(&s(&b["token"])).await),
        Some("INVALID_TOKEN")
    );
    // Someone else's session id is not found.
    let (other_token, _) = app.user("someone@example.com").await;
    let res = app
        .gql(
            None,
            Some(&other_token),
            "mutation($id: String!) { revokeSession(id: $id) }",
            json!({"id": a["sessionId"]}),
        )
        .await;
    assert_eq!(error_code(&res), Some("NOT_FOUND"));

    let res = app
        .gql(
            Some(&app.sk),
            None,
            "mutation($id: String!) { revokeUserSessions(userId: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(res["data"]["revokeUserSessions"], 2);
    assert_eq!(
        error_code(&app.me(&s(&a["token"])).await),
        Some("INVALID_TOKEN")
    );
}

/// The session-and-user lookup is cached for `auth_cache_ms` (1 s here), yet a
/// log-out on one instance refuses the token on another instance sharing the
/// Postgres database right away (the invalidation travels by NOTIFY), and on
/// the revoking instance from the very next request.
#[tokio::test]
async fn a_log_out_on_one_instance_is_honoured_by_another_despite_its_cache() {
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let (a, b) = TestApp::spawn_pair().await;
    let (token, _) = a.user("cached@example.com").await;
    let me = "{ me { email } }";
    // Both instances have the session cached now.
    for app in [&a, &b] {
        let res = app.gql(None, Some(&token), me, json!({})).await;
        assert_eq!(res["data"]["me"]["email"], "cached@example.com", "{res}");
    }
    let out = a
        .gql(None, Some(&token), "mutation { logOut }", json!({}))
        .await;
    assert!(out["errors"].is_null(), "{out}");
    let logged_out = std::time::Instant::now();
    let res = a.gql(None, Some(&token), me, json!({})).await;
    assert_eq!(error_code(&res), Some("INVALID_TOKEN"), "{res}");
    // On the other instance: refused well before the cache entry would expire.
    loop {
        let sent = logged_out.elapsed();
        let res = b.gql(None, Some(&token), me, json!({})).await;
        if error_code(&res) == Some("INVALID_TOKEN") {
            assert!(
                sent < Duration::from_millis(500),
                "refused only after {sent:?}"
            );
            break;
        }
        assert!(
            sent < Duration::from_millis(1000),
            "still accepted {sent:?} after the log-out"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
