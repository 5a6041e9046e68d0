//! The audit trail: each event recorded once with its fields, whatever the
//! door; read with the secret key only, one project at a time; filtered,
//! paged, purged after the retention period, and part of `exportMe`.
use authgraph::domain::{audit, projects, signing_keys};
use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{ReplyExt, TestApp, error_code, mail};
use crate::second_factors::{LOG_IN, PW, VERIFY, app as mail_app, code_in, with_totp};

const UA: &str = "audit-test/1.0";
const EVENTS: &str = "query($w: AuditEventWhere, $first: Int, $after: String) {
  auditEvents(where: $w, first: $first, after: $after) {
    nodes { id kind outcome userId collectionId ip userAgent at detail }
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  } }";

/// Every event of the default project matching `filter`, newest first.
pub(crate) async fn events(app: &TestApp, filter: Value) -> Vec<Value> {
    let res = app
        .gql(
            Some(&app.sk),
            None,
            EVENTS,
            json!({"w": filter, "first": 500}),
        )
        .await;
    let nodes = res["data"]["auditEvents"]["nodes"].as_array();
    nodes.unwrap_or_else(|| panic!("{res}")).clone()
}

/// The kinds of `list`, oldest first.
fn kinds(list: &[Value]) -> Vec<&str> {
    list.iter()
        .rev()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

/// The one event of `kind` in `list` (fails when there are none or several).
fn one<'a>(list: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = list.iter().filter(|e| e["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "{kind} in {list:#?}");
    found[0]
}

/// A GraphQL call with our user agent.
async fn gql_ua(app: &TestApp, key: Option<&str>, token: Option<&str>, q: &str, v: Value) -> Value {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.base))
        .header("user-agent", UA)
        .json(&json!({"query": q, "variables": v}));
    if let Some(k) = key {
        req = req.header("x-api-key", k);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

const SIGN_UP: &str = "mutation($e: String!) { signUp(input: {email: $e, password: \"correct horse battery\"}) { token refreshToken user { id } } }";
const LOG_IN_PW: &str = "mutation($e: String!, $p: String!) { logIn(input: {email: $e, password: $p}) { token refreshToken sessionId user { id } } }";

#[tokio::test]
async fn sign_up_and_log_in_are_recorded_once_each_with_their_fields_through_graphql_and_pocketbase()
 {
    let app = TestApp::spawn().await;
    let pk = app.pk.clone();
    let ann = gql_ua(
        &app,
        Some(&pk),
        None,
        SIGN_UP,
        json!({"e": "ann@example.com"}),
    )
    .await;
    let ann_id = ann["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let pb = app
        .rest(Method::POST, "/api/collections/users/records")
        .header("user-agent", UA)
        .json(&json!({"email": "bob@example.com", "password": PW, "passwordConfirm": PW}))
        .reply()
        .await;
    assert_eq!(pb.status, 200, "{}", pb.body);
    let bob_id = pb.body["id"].as_str().unwrap().to_owned();
    let login = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .header("user-agent", UA)
        .json(&json!({"identity": "bob@example.com", "password": PW}))
        .reply()
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let vars = json!({"e": "ann@example.com", "p": PW});
    gql_ua(&app, Some(&pk), None, LOG_IN_PW, vars).await;
    let vars = json!({"e": "ann@example.com", "p": "not the password"});
    let wrong = gql_ua(&app, Some(&pk), None, LOG_IN_PW, vars).await;
    assert_eq!(error_code(&wrong), Some("INVALID_CREDENTIALS"), "{wrong}");
    let vars = json!({"e": "nobody@example.com", "p": "not the password"});
    gql_ua(&app, Some(&pk), None, LOG_IN_PW, vars).await;

    let all = events(&app, json!({})).await;
    let mine = events(&app, json!({"userId": ann_id})).await;
    assert_eq!(kinds(&mine), ["sign_up", "log_in", "log_in"], "{mine:#?}");
    let theirs = events(&app, json!({"userId": bob_id})).await;
    assert_eq!(kinds(&theirs), ["sign_up", "log_in"], "{theirs:#?}");
    let project = app.default_project().await;
    let users = app
        .services
        .catalog
        .collection_by_name(&app.services.db, &project.id, "users")
        .await
        .unwrap();
    for e in &all {
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert_eq!(e["userAgent"], UA, "{e}");
        assert_eq!(e["collectionId"], users.id.as_str(), "{e}");
        assert!(e["at"].as_str().unwrap().starts_with("20"), "{e}");
    }
    let signed_up = one(&theirs, "sign_up");
    assert_eq!(signed_up["outcome"], "success");
    assert!(signed_up["detail"].get("by").is_none(), "{signed_up}");
    let logged_in = one(&theirs, "log_in");
    assert_eq!(logged_in["detail"]["method"], "password", "{logged_in}");
    let failed: Vec<&Value> = all.iter().filter(|e| e["outcome"] == "failure").collect();
    assert_eq!(failed.len(), 2, "{all:#?}");
    // A wrong password names the account; an unknown email only a digest.
    assert_eq!(failed[1]["userId"], ann_id.as_str(), "{failed:#?}");
    assert!(failed[0]["userId"].is_null(), "{failed:#?}");
    let digest = failed[0]["detail"]["identifier"].as_str().unwrap();
    assert_eq!(digest.len(), 16, "{digest}");
    let text = serde_json::to_string(&all).unwrap();
    assert!(
        !text.contains("nobody") && !text.contains("not the password") && !text.contains("horse"),
        "{text}"
    );
}

#[tokio::test]
async fn sessions_passwords_and_mailed_codes_are_recorded_once_each() {
    let app = TestApp::spawn_custom(None, |c| {
        c.smtp_url = crate::helpers::RECORD_MAIL.into();
        // A rotated refresh token is reuse at once.
        c.refresh_grace_secs = 0;
    })
    .await;
    let pk = app.pk.clone();
    let (token, id) = app.user("ann@example.com").await;
    let change = "mutation($n: String!) { changePassword(input: {currentPassword: \"correct horse battery\", newPassword: $n}) { token } }";
    let res = app
        .gql(
            None,
            Some(&token),
            change,
            json!({"n": "a second passphrase"}),
        )
        .await;
    let token = res["data"]["changePassword"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Refresh, then the rotated token again: reuse.
    let vars = json!({"e": "ann@example.com", "p": "a second passphrase"});
    let login = app.gql(Some(&pk), None, LOG_IN_PW, vars.clone()).await;
    let first = login["data"]["logIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = "mutation($r: String!) { refreshToken(refreshToken: $r) { refreshToken } }";
    let ok = app.gql(None, None, refresh, json!({"r": first})).await;
    assert!(ok["data"]["refreshToken"].is_object(), "{ok}");
    let reused = app.gql(None, None, refresh, json!({"r": first})).await;
    assert_eq!(error_code(&reused), Some("TOKEN_REUSED"), "{reused}");
    let reused_session = login["data"]["logIn"]["sessionId"].clone();

    // One session revoked by its user, then log-out.
    let other = app.gql(Some(&pk), None, LOG_IN_PW, vars).await;
    let other_session = other["data"]["logIn"]["sessionId"].clone();
    let revoke = "mutation($s: String!) { revokeSession(id: $s) }";
    let res = app
        .gql(None, Some(&token), revoke, json!({"s": other_session}))
        .await;
    assert_eq!(res["data"]["revokeSession"], true, "{res}");

    // Verification, then a password reset, by mailed codes.
    let ask = "mutation($e: String!) { requestEmailVerification(email: $e) }";
    app.gql(Some(&pk), None, ask, json!({"e": "ann@example.com"}))
        .await;
    let code = code_in(&mail(&app, 2).await.body);
    let verify =
        "mutation($c: String!) { verifyEmail(input: {email: \"ann@example.com\", code: $c}) }";
    let res = app.gql(Some(&pk), None, verify, json!({"c": code})).await;
    assert_eq!(res["data"]["verifyEmail"], true, "{res}");
    let ask = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    app.gql(Some(&pk), None, ask, json!({"e": "ann@example.com"}))
        .await;
    let code = code_in(&mail(&app, 3).await.body);
    let reset = "mutation($c: String!) { resetPassword(input: {email: \"ann@example.com\", code: $c, newPassword: \"a third passphrase\"}) }";
    let res = app.gql(Some(&pk), None, reset, json!({"c": code})).await;
    assert_eq!(res["data"]["resetPassword"], true, "{res}");

    // An email change, then log-out.
    let vars = json!({"e": "ann@example.com", "p": "a third passphrase"});
    let login = app.gql(Some(&pk), None, LOG_IN_PW, vars).await;
    let token = login["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    let ask = "mutation { requestEmailChange(newEmail: \"new@example.com\") }";
    app.gql(None, Some(&token), ask, json!({})).await;
    // Mail 4 told of the reset password.
    let m = mail(&app, 5).await;
    assert_eq!(m.to, "new@example.com");
    let body = m.body;
    let label = "Token, for apps that ask for it:";
    let start = body.find(label).unwrap() + label.len();
    let change = body[start..].split_whitespace().next().unwrap();
    let confirm =
        "mutation($t: String!) { confirmEmailChange(token: $t, password: \"a third passphrase\") }";
    let res = app
        .gql(Some(&pk), None, confirm, json!({"t": change}))
        .await;
    assert_eq!(res["data"]["confirmEmailChange"], true, "{res}");
    let login = app
        .gql(
            Some(&pk),
            None,
            LOG_IN_PW,
            json!({"e": "new@example.com", "p": "a third passphrase"}),
        )
        .await;
    let token = login["data"]["logIn"]["token"].as_str().unwrap().to_owned();
    let res = app
        .gql(None, Some(&token), "mutation { logOut }", json!({}))
        .await;
    assert_eq!(res["data"]["logOut"], 1, "{res}");

    let list = events(&app, json!({"userId": id})).await;
    assert_eq!(
        kinds(&list),
        [
            "sign_up",
            "password_changed",
            "log_in",
            "refresh_token_reused",
            "log_in",
            "session_revoked",
            "verification_requested",
            "email_verified",
            "password_reset_requested",
            "password_reset",
            "log_in",
            "email_change_requested",
            "email_changed",
            "log_in",
            "log_out",
        ],
        "{list:#?}"
    );
    assert_eq!(
        one(&list, "refresh_token_reused")["detail"]["session"],
        reused_session
    );
    assert_eq!(
        one(&list, "session_revoked")["detail"]["session"],
        other_session
    );
    assert_eq!(one(&list, "log_out")["detail"]["all"], false);
    assert!(list.iter().all(|e| e["outcome"] == "success"), "{list:#?}");
    // Even the events written by a background task carry the request's client.
    let asked = one(&list, "password_reset_requested");
    assert_eq!(asked["ip"], "127.0.0.1", "{asked}");
}

#[tokio::test]
async fn second_factors_are_recorded_when_added_answered_and_removed() {
    let app = mail_app().await;
    let (token, _secret, codes) = with_totp(&app, "ann@example.com").await;
    let me = app.me(&token).await;
    let id = me["data"]["me"]["id"].as_str().unwrap().to_owned();
    let vars = json!({"i": {"email": "ann@example.com", "password": PW}});
    let login = app.gql(Some(&app.pk), None, LOG_IN, vars).await;
    let challenge = login["data"]["logIn"]["secondFactorRequired"]["challengeId"].clone();
    let wrong = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": challenge, "code": "000000"}),
        )
        .await;
    assert_eq!(error_code(&wrong), Some("INVALID_SECOND_FACTOR"), "{wrong}");
    let ok = app
        .gql(
            Some(&app.pk),
            None,
            VERIFY,
            json!({"c": challenge, "r": codes[0]}),
        )
        .await;
    let token = ok["data"]["verifySecondFactor"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let regen = "mutation { regenerateRecoveryCodes(password: \"correct horse battery\") }";
    let res = app.gql(None, Some(&token), regen, json!({})).await;
    assert!(res["data"]["regenerateRecoveryCodes"].is_array(), "{res}");
    let off = "mutation { disableSecondFactor(password: \"correct horse battery\") }";
    let res = app.gql(None, Some(&token), off, json!({})).await;
    assert_eq!(res["data"]["disableSecondFactor"], true, "{res}");

    let list = events(&app, json!({"userId": id})).await;
    assert_eq!(
        kinds(&list),
        [
            "sign_up",
            "factor_added",
            "log_in",
            "second_factor",
            "second_factor",
            "recovery_codes_regenerated",
            "factor_removed",
        ],
        "{list:#?}"
    );
    assert_eq!(one(&list, "factor_added")["detail"]["factor"], "totp");
    assert_eq!(one(&list, "factor_removed")["detail"]["factor"], "all");
    let answers = events(&app, json!({"userId": id, "kind": ["second_factor"]})).await;
    let outcomes: Vec<&Value> = answers.iter().rev().map(|e| &e["outcome"]).collect();
    assert_eq!(
        outcomes,
        [&json!("failure"), &json!("success")],
        "{answers:#?}"
    );
}

#[tokio::test]
async fn admin_actions_name_the_secret_key_that_did_them() {
    let app = TestApp::spawn().await;
    let sk = app.sk.clone();
    let created = app
        .rest(Method::POST, "/api/collections/users/records")
        .header("x-api-key", &sk)
        .json(&json!({"email": "ann@example.com", "password": PW, "passwordConfirm": PW}))
        .reply()
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/collections/users/records/{id}");
    let new_pw = "an admin's passphrase";
    let set = app
        .rest(Method::PATCH, &path)
        .header("x-api-key", &sk)
        .json(&json!({"password": new_pw, "passwordConfirm": new_pw}))
        .reply()
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let update =
        "mutation($id: String!) { updateUser(id: $id, input: {data: {city: \"Oslo\"}}) { id } }";
    let res = app.gql(Some(&sk), None, update, json!({"id": id})).await;
    assert!(res["data"]["updateUser"].is_object(), "{res}");
    for m in ["disableUser", "enableUser"] {
        let q = format!("mutation($id: String!) {{ {m}(id: $id) {{ id }} }}");
        let res = app.gql(Some(&sk), None, &q, json!({"id": id})).await;
        assert!(res["data"][m].is_object(), "{res}");
    }
    let revoke = "mutation($id: String!) { revokeUserSessions(userId: $id) }";
    let res = app.gql(Some(&sk), None, revoke, json!({"id": id})).await;
    assert!(res["data"]["revokeUserSessions"].is_number(), "{res}");
    let gone = app
        .rest(Method::DELETE, &path)
        .header("x-api-key", &sk)
        .reply()
        .await;
    assert_eq!(gone.status, 204, "{}", gone.body);

    let list = events(&app, json!({"userId": id})).await;
    assert_eq!(
        kinds(&list),
        [
            "user_created",
            "password_set",
            "user_updated",
            "user_disabled",
            "user_enabled",
            "session_revoked",
            "user_deleted",
        ],
        "{list:#?}"
    );
    let tail = &sk[sk.len() - 4..];
    for e in &list {
        assert_eq!(e["detail"]["by"], format!("secret_key:…{tail}"), "{e}");
    }
    assert_eq!(one(&list, "session_revoked")["detail"]["all"], true);
}

#[tokio::test]
async fn a_user_token_and_the_publishable_key_cannot_read_audit_events() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("ann@example.com").await;
    let by_user = app.gql(None, Some(&token), EVENTS, json!({})).await;
    assert_eq!(error_code(&by_user), Some("FORBIDDEN"), "{by_user}");
    assert!(by_user["data"].is_null(), "{by_user}");
    let by_pk = app.gql(Some(&app.pk), None, EVENTS, json!({})).await;
    assert_eq!(error_code(&by_pk), Some("FORBIDDEN"), "{by_pk}");
    let nobody = app.gql(None, None, EVENTS, json!({})).await;
    assert_eq!(error_code(&nobody), Some("UNAUTHENTICATED"), "{nobody}");
    let by_sk = app.gql(Some(&app.sk), None, EVENTS, json!({})).await;
    assert!(error_code(&by_sk).is_none(), "{by_sk}");
}

#[tokio::test]
async fn another_projects_events_are_invisible() {
    let app = TestApp::spawn().await;
    let b = projects::create(&app.services.db, "Project B", None)
        .await
        .unwrap();
    let in_b = app
        .gql(
            Some(&b.publishable_key),
            None,
            SIGN_UP,
            json!({"e": "bea@example.com"}),
        )
        .await;
    let bea = in_b["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.user("ann@example.com").await;

    let in_a = events(&app, json!({})).await;
    assert_eq!(kinds(&in_a), ["sign_up"], "{in_a:#?}");
    let asked_for_b = events(&app, json!({"userId": bea})).await;
    assert!(asked_for_b.is_empty(), "{asked_for_b:#?}");
    let res = app
        .gql(Some(&b.secret_key), None, EVENTS, json!({"first": 10}))
        .await;
    let nodes = res["data"]["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{res}");
    assert_eq!(nodes[0]["userId"], bea.as_str());
}

#[tokio::test]
async fn filters_and_pages_walk_the_trail_newest_first() {
    let app = TestApp::spawn().await;
    let (_, id) = app.user("ann@example.com").await;
    for _ in 0..4 {
        app.log_in("ann@example.com", PW).await;
    }
    app.log_in("ann@example.com", "not the password").await;
    app.user("bob@example.com").await;

    // Pages of two: 5 log-ins of Ann, newest first, then nothing.
    let mut seen = vec![];
    let mut after: Option<String> = None;
    loop {
        let vars = json!({"w": {"userId": id, "kind": ["log_in"]}, "first": 2, "after": after});
        let res = app.gql(Some(&app.sk), None, EVENTS, vars).await;
        let conn = &res["data"]["auditEvents"];
        let nodes = conn["nodes"].as_array().unwrap_or_else(|| panic!("{res}"));
        seen.extend(nodes.iter().cloned());
        assert_eq!(
            conn["pageInfo"]["hasPreviousPage"],
            after.is_some(),
            "{res}"
        );
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        assert_eq!(nodes.len(), 2, "{res}");
        let end = conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        assert_eq!(conn["edges"][1]["cursor"], end.as_str());
        after = Some(end);
    }
    assert_eq!(seen.len(), 5, "{seen:#?}");
    let all = events(&app, json!({"userId": id, "kind": ["log_in"]})).await;
    assert_eq!(seen, all);
    let ats: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ats, sorted);

    let failed = events(&app, json!({"outcome": "failure"})).await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let sign_ups = events(&app, json!({"kind": ["sign_up", "log_out"]})).await;
    assert_eq!(kinds(&sign_ups), ["sign_up", "sign_up"]);
    let future = events(&app, json!({"from": "2999-01-01T00:00:00Z"})).await;
    assert!(future.is_empty(), "{future:#?}");
    let past = events(&app, json!({"to": "2000-01-01T00:00:00Z"})).await;
    assert!(past.is_empty(), "{past:#?}");
    let now = chrono::Utc::now().to_rfc3339();
    let until_now = events(&app, json!({"from": "2000-01-01T00:00:00Z", "to": now})).await;
    assert_eq!(until_now.len(), 7, "{until_now:#?}");

    for (vars, field) in [
        (json!({"w": {"kind": ["no_such_kind"]}}), "kind"),
        (json!({"w": {"outcome": "maybe"}}), "outcome"),
        (json!({"first": 0}), "first"),
        (json!({"first": 501}), "first"),
        (json!({"after": "not a cursor"}), "after"),
    ] {
        let res = app.gql(Some(&app.sk), None, EVENTS, vars).await;
        assert_eq!(error_code(&res), Some("VALIDATION"), "{res}");
        assert_eq!(res["errors"][0]["extensions"]["field"], field, "{res}");
    }
}

/// Moves every event of the database `days` days into the past.
async fn age_events(app: &TestApp, days: i64) {
    let text = format!("UPDATE audit_events SET at = at - {}", days * 86_400_000);
    app.services.db.execute_unprepared(&text).await.unwrap();
}

#[tokio::test]
async fn retention_purges_events_older_than_the_configured_days() {
    let app = TestApp::spawn().await;
    app.user("old@example.com").await;
    age_events(&app, 91).await;
    app.user("new@example.com").await;
    let db = &app.services.db;
    assert_eq!(
        audit::query::purge(db, 0).await.unwrap(),
        0,
        "0 keeps forever"
    );
    assert_eq!(events(&app, json!({})).await.len(), 2);
    assert_eq!(audit::query::purge(db, 90).await.unwrap(), 1);
    let left = events(&app, json!({})).await;
    assert_eq!(kinds(&left), ["sign_up"], "{left:#?}");
    assert_eq!(audit::query::purge(db, 90).await.unwrap(), 0);
}

#[tokio::test]
async fn a_key_rotation_is_recorded_without_a_project_and_shown_to_none() {
    let app = TestApp::spawn().await;
    let kid = signing_keys::rotate(&app.services).await.unwrap();
    let row = app
        .services
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.services.db.get_database_backend(),
            "SELECT kind, project_id, detail FROM audit_events",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "kind").unwrap(),
        "signing_key_rotated"
    );
    assert_eq!(
        row.try_get::<Option<String>>("", "project_id").unwrap(),
        None
    );
    let detail: Value =
        serde_json::from_str(&row.try_get::<String>("", "detail").unwrap()).unwrap();
    assert_eq!(detail["kid"], kid.as_str());
    assert!(events(&app, json!({})).await.is_empty());
}

#[tokio::test]
async fn export_me_contains_the_users_own_events_newest_first() {
    let app = TestApp::spawn().await;
    let (token, _) = app.user("ann@example.com").await;
    app.user("bob@example.com").await;
    app.log_in("ann@example.com", "not the password").await;
    let reply = app.gql(None, Some(&token), "{ exportMe }", json!({})).await;
    let list = reply["data"]["exportMe"]["auditEvents"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = list
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("log_in", "failure"), ("sign_up", "success")],
        "{reply}"
    );
    assert_eq!(list[0]["ip"], "127.0.0.1");
}

#[tokio::test]
async fn passkeys_are_recorded_when_added_renamed_used_and_removed() {
    let (app, token, mut laptop) = crate::passkeys::with_passkey("Laptop").await;
    let list = app
        .gql(
            None,
            Some(&token),
            "{ me { id passkeys { id } } }",
            json!({}),
        )
        .await;
    let id = list["data"]["me"]["id"].as_str().unwrap().to_owned();
    let key = list["data"]["me"]["passkeys"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rename = "mutation($i: String!) { renamePasskey(id: $i, name: \"Work\") { name } }";
    app.gql(None, Some(&token), rename, json!({"i": key})).await;
    let res = crate::passkeys::sign_in(&app, &mut laptop).await;
    assert!(
        res["data"]["finishPasskeyLogin"]["token"].is_string(),
        "{res}"
    );
    let delete = "mutation($i: String!) { deletePasskey(id: $i) }";
    let res = app.gql(None, Some(&token), delete, json!({"i": key})).await;
    assert_eq!(res["data"]["deletePasskey"], true, "{res}");
    let res = crate::passkeys::sign_in(&app, &mut laptop).await;
    assert_eq!(error_code(&res), Some("INVALID_CREDENTIALS"), "{res}");

    let unknown = events(&app, json!({"outcome": "failure"})).await;
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert!(unknown[0]["userId"].is_null(), "{unknown:#?}");
    assert_eq!(unknown[0]["detail"]["method"], "passkey");
    let list = events(&app, json!({"userId": id})).await;
    assert_eq!(
        kinds(&list),
        [
            "sign_up",
            "passkey_added",
            "passkey_renamed",
            "log_in",
            "passkey_removed"
        ],
        "{list:#?}"
    );
    for kind in [
        "passkey_added",
        "passkey_renamed",
        "log_in",
        "passkey_removed",
    ] {
        assert_eq!(
            one(&list, kind)["detail"]["passkey"],
            key.as_str(),
            "{kind}"
        );
    }
    assert_eq!(one(&list, "log_in")["detail"]["method"], "passkey");
}

#[tokio::test]
async fn oauth_sign_up_then_log_in_are_recorded_with_their_provider() {
    let (app, fake) = crate::oauth::world("").await;
    let claims = json!({"sub": "ann-1", "email": "ann@example.com", "email_verified": true});
    let first = crate::oauth::sign_in(&app, &fake, claims.clone()).await;
    let id = first["data"]["finishOAuth"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = crate::oauth::sign_in(&app, &fake, claims).await;
    assert_eq!(
        again["data"]["finishOAuth"]["user"]["id"],
        id.as_str(),
        "{again}"
    );
    let list = events(&app, json!({"userId": id})).await;
    assert_eq!(kinds(&list), ["sign_up", "log_in"], "{list:#?}");
    for e in &list {
        assert_eq!(e["detail"]["method"], "oauth2", "{e}");
        assert_eq!(e["detail"]["provider"], "fake", "{e}");
    }
}

#[tokio::test]
async fn a_locked_account_is_recorded_as_locked_not_as_a_wrong_password() {
    let app = TestApp::spawn_custom(None, |c| c.lockout_failures = 2).await;
    app.user("ann@example.com").await;
    for _ in 0..2 {
        app.log_in("ann@example.com", "not the password").await;
    }
    let locked = app.log_in("ann@example.com", PW).await;
    assert_eq!(error_code(&locked), Some("RATE_LIMITED"), "{locked}");
    let list = events(&app, json!({"kind": ["log_in"]})).await;
    let outcomes: Vec<&str> = list
        .iter()
        .rev()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["failure", "failure", "locked"], "{list:#?}");
}

#[tokio::test]
async fn an_admin_action_over_a_websocket_carries_its_client_and_the_key_that_did_it() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = TestApp::spawn().await;
    let (_, id) = app.user("ann@example.com").await;
    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    let headers = req.headers_mut();
    headers.insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    headers.insert("user-agent", UA.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let send = |v: Value| Message::Text(v.to_string().into());
    let init = json!({"type": "connection_init", "payload": {"x-api-key": app.sk}});
    ws.send(send(init)).await.unwrap();
    assert_eq!(
        crate::subscriptions::next(&mut ws).await["type"],
        "connection_ack"
    );
    let disable = "mutation($id: String!) { disableUser(id: $id) { id } }";
    let payload = json!({"query": disable, "variables": {"id": id}});
    let subscribe = json!({"type": "subscribe", "id": "1", "payload": payload});
    ws.send(send(subscribe)).await.unwrap();
    let answer = crate::subscriptions::next(&mut ws).await;
    assert_eq!(
        answer["payload"]["data"]["disableUser"]["id"],
        id.as_str(),
        "{answer}"
    );

    let list = events(&app, json!({"userId": id, "kind": ["user_disabled"]})).await;
    let disabled = one(&list, "user_disabled");
    let tail = &app.sk[app.sk.len() - 4..];
    assert_eq!(
        disabled["detail"]["by"],
        format!("secret_key:…{tail}"),
        "{disabled}"
    );
    assert_eq!(disabled["ip"], "127.0.0.1", "{disabled}");
    assert_eq!(disabled["userAgent"], UA, "{disabled}");
}
