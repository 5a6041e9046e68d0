//! Hostile input through every door: common passwords, addresses that look
//! like someone else's, and internationalized addresses spelled two ways.
use reqwest::Method;
use serde_json::{Value, json};

use crate::cross_door::{DOORS, Door};
use crate::helpers::{ReplyExt, TestApp, error_code};
use crate::rest_urbackend::{session, ub};

const PW: &str = "correct horse battery";

/// Signs up through a door with `extra` merged into the flat body; returns
/// the status and body (GraphQL: 200 and the whole response).
async fn sign_up(
    app: &TestApp,
    door: Door,
    email: &str,
    password: &str,
    extra: Value,
) -> (u16, Value) {
    let mut flat = json!({"email": email, "password": password});
    flat.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let res = match door {
        Door::GraphQl => return (200, app.sign_up(email, password, extra).await),
        Door::Cocobase => app
            .rest(Method::POST, "/auth-collections/signup")
            .header("x-api-key", &app.pk),
        Door::PocketBase => {
            flat["passwordConfirm"] = json!(password);
            app.rest(Method::POST, "/api/collections/users/records")
        }
        Door::UrBackend => ub(app, Method::POST, "signup"),
    };
    let res = res.json(&flat).reply().await;
    (res.status, res.body)
}

/// Whether a sign-up through `door` succeeded.
fn created(door: Door, (status, body): &(u16, Value)) -> bool {
    match door {
        Door::GraphQl => body["data"]["signUp"]["user"]["id"].is_string(),
        Door::UrBackend => *status == 201,
        _ => *status == 200,
    }
}

/// Asserts the dialect's field-level refusal of `field` with `code`; the
/// message contains `needle` where the dialect carries ours.
fn assert_refused(
    door: Door,
    (status, body): &(u16, Value),
    code: &str,
    field: &str,
    needle: &str,
) {
    match door {
        Door::GraphQl => {
            assert_eq!(error_code(body), Some(code), "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
            let msg = body["errors"][0]["message"].as_str().unwrap();
            assert!(msg.contains(needle), "{body}");
        }
        Door::Cocobase => {
            assert_eq!(*status, 422, "{body}");
            let d = &body["detail"][0];
            assert_eq!(d["loc"], json!(["body", field]), "{body}");
            assert_eq!(d["type"], code.to_lowercase(), "{body}");
            assert!(d["msg"].as_str().unwrap().contains(needle), "{body}");
        }
        Door::PocketBase => {
            assert_eq!(*status, 400, "{body}");
            assert!(
                body["data"][field]["code"]
                    .as_str()
                    .unwrap()
                    .starts_with("validation_"),
                "{body}"
            );
            if code == "WEAK_PASSWORD" {
                assert!(
                    body["data"][field]["message"]
                        .as_str()
                        .unwrap()
                        .contains(needle),
                    "{body}"
                );
            }
        }
        Door::UrBackend => {
            assert_eq!(*status, 400, "{body}");
            assert_eq!(body["success"], false, "{body}");
            assert!(body["error"].as_str().unwrap().contains(needle), "{body}");
        }
    }
}

#[tokio::test]
async fn common_passwords_are_refused_as_weak_in_every_door() {
    let app = TestApp::spawn().await;
    for (i, door) in DOORS.into_iter().enumerate() {
        for weak in ["password1", "Qwertyuiop", "iloveyou"] {
            let res = sign_up(&app, door, &format!("w{i}@example.com"), weak, json!({})).await;
            assert_refused(door, &res, "WEAK_PASSWORD", "password", "too common");
        }
        let res = sign_up(&app, door, &format!("w{i}@example.com"), PW, json!({})).await;
        assert!(created(door, &res), "{door:?}: {res:?}");
    }
    // A password change to a common password is refused too.
    let token = app.log_in("w0@example.com", PW).await["data"]["logIn"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .gql(
            None,
            Some(&token),
            "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }",
            json!({"i": {"currentPassword": PW, "newPassword": "sunshine1"}}),
        )
        .await;
    assert_refused(
        Door::GraphQl,
        &(200, res),
        "WEAK_PASSWORD",
        "password",
        "too common",
    );
}

#[tokio::test]
async fn a_change_to_a_common_password_is_refused_in_pocketbase_and_urbackend() {
    let app = TestApp::spawn().await;
    for door in [Door::PocketBase, Door::UrBackend] {
        let res = sign_up(&app, door, &format!("{door:?}@example.com"), PW, json!({})).await;
        assert!(created(door, &res), "{door:?}: {res:?}");
    }
    let pb = app
        .rest(Method::POST, "/api/collections/users/auth-with-password")
        .json(&json!({"identity": "PocketBase@example.com", "password": PW}))
        .reply()
        .await;
    let id = pb.body["record"]["id"].as_str().unwrap();
    let res = app
        .rest(
            Method::PATCH,
            &format!("/api/collections/users/records/{id}"),
        )
        .header("authorization", pb.body["token"].as_str().unwrap())
        .json(&json!({"oldPassword": PW, "password": "football1", "passwordConfirm": "football1"}))
        .reply()
        .await;
    let pair = (res.status, res.body);
    assert_refused(
        Door::PocketBase,
        &pair,
        "WEAK_PASSWORD",
        "password",
        "too common",
    );
    let ub_token = session(&app, "UrBackend@example.com", PW).await.0;
    let res = ub(&app, Method::PUT, "change-password")
        .bearer_auth(&ub_token)
        .json(&json!({"currentPassword": PW, "newPassword": "Baseball1"}))
        .reply()
        .await;
    let pair = (res.status, res.body);
    assert_refused(
        Door::UrBackend,
        &pair,
        "WEAK_PASSWORD",
        "password",
        "too common",
    );
}

#[tokio::test]
async fn addresses_with_invisible_or_bidirectional_characters_are_invalid_in_every_door() {
    let app = TestApp::spawn().await;
    for door in DOORS {
        for email in [
            "ann\u{202E}moc.elpmaxe@example.com",
            "ann@exam\u{2067}ple.com",
            "a\u{200B}nn@example.com",
            "\u{FEFF}ann@example.com",
            "ann\u{2060}@example.com",
            "an\u{1}n@example.com",
        ] {
            let res = sign_up(&app, door, email, PW, json!({})).await;
            assert_refused(door, &res, "INVALID_EMAIL", "email", "");
        }
    }
}

#[tokio::test]
async fn one_internationalized_address_spelled_two_ways_is_one_account_in_every_door() {
    let app = TestApp::spawn().await;
    for (i, door) in DOORS.into_iter().enumerate() {
        // A Unicode domain and its punycode; an NFC local part and its NFD
        // spelling (o + combining diaeresis).
        for (first, twin) in [
            (
                format!("u{i}@ex\u{E4}mple.com"),
                format!("u{i}@XN--EXMPLE-CUA.com"),
            ),
            (
                format!("j\u{F6}rg{i}@example.com"),
                format!("jo\u{308}rg{i}@example.com"),
            ),
        ] {
            let res = sign_up(&app, door, &first, PW, json!({})).await;
            assert!(created(door, &res), "{door:?} {first}: {res:?}");
            let res = sign_up(&app, door, &twin, PW, json!({})).await;
            assert!(
                !created(door, &res),
                "{door:?}: twin {twin:?} created: {res:?}"
            );
        }
    }
    // Either spelling logs in to the one account.
    let res = app.log_in("u0@xn--exmple-cua.com", PW).await;
    assert!(res["data"]["logIn"]["token"].is_string(), "{res}");
    let res = app.log_in("jo\u{308}rg0@example.com", PW).await;
    assert!(res["data"]["logIn"]["token"].is_string(), "{res}");
}

#[tokio::test]
async fn dialect_fields_of_the_wrong_type_are_refused_field_by_field_in_every_door() {
    let app = TestApp::spawn().await;
    for (i, door) in DOORS.into_iter().enumerate() {
        let email = format!("t{i}@example.com");
        for (field, value) in [
            ("username", json!({"$gt": ""})),
            ("username", json!("a/b")),
            ("name", json!(["Ann"])),
            ("avatar", json!(5)),
        ] {
            let res = sign_up(&app, door, &email, PW, json!({ field: value })).await;
            assert!(!created(door, &res), "{door:?} {field}={value}: {res:?}");
            match door {
                Door::GraphQl => {
                    assert_eq!(error_code(&res.1), Some("VALIDATION"), "{res:?}");
                    assert_eq!(res.1["errors"][0]["extensions"]["field"], field, "{res:?}");
                }
                Door::Cocobase => {
                    assert_eq!(res.0, 422, "{res:?}");
                    assert_eq!(res.1["detail"][0]["loc"][1], field, "{res:?}");
                }
                Door::PocketBase => {
                    assert_eq!(res.0, 400, "{res:?}");
                    assert!(res.1["data"][field]["code"].is_string(), "{res:?}");
                }
                Door::UrBackend => {
                    assert_eq!(res.0, 400, "{res:?}");
                    let error = res.1["error"].as_str().unwrap();
                    assert!(error.contains(field), "{res:?}");
                }
            }
        }
        let res = sign_up(
            &app,
            door,
            &email,
            PW,
            json!({"username": format!("user.{i}"), "name": "Ann"}),
        )
        .await;
        assert!(created(door, &res), "{door:?}: {res:?}");
    }
    // urBackend: a profile update with an object username is refused, and
    // the stored username still finds its public profile.
    let ub_token = session(&app, "t3@example.com", PW).await.0;
    let res = ub(&app, Method::PUT, "update-profile")
        .bearer_auth(&ub_token)
        .json(&json!({"username": {"first": "x"}}))
        .reply()
        .await;
    assert_eq!(res.status, 400, "{:?}", res.body);
    assert!(
        res.body["error"]
            .as_str()
            .unwrap()
            .contains("`username` must be a string"),
        "{:?}",
        res.body
    );
    let res = ub(&app, Method::GET, "public/user.3").reply().await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}
