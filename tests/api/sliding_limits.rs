//! Rate limits drain continuously (no burst at a window's edge), and token
//! refreshes and password changes are limited per account.
use authgraph::domain::limits::{self, Rule};
use authgraph::error::AppError;
use serde_json::json;

use crate::helpers::{TestApp, error_code};

const PW: &str = "correct horse battery";

/// Four hits a minute: a burst of four, then one every 15 s.
const FOUR_A_MINUTE: Rule = Rule {
    max: 4,
    window_secs: 60,
};

/// Moves a bucket's last hit `secs` into the past (time passing, for the bucket).
async fn age(app: &TestApp, bucket: &str, secs: i64) {
    let sql = "UPDATE rate_limits SET window_start = window_start - $1 WHERE bucket = $2";
    let changed =
        authgraph::store::raw::execute(&app.services.db, sql, vec![secs.into(), bucket.into()])
            .await
            .unwrap();
    assert_eq!(changed, 1);
}

/// One attempt: `Ok` when it passed, else the seconds the refusal asks to wait.
async fn attempt(app: &TestApp, bucket: &str, rule: Rule) -> Result<(), u64> {
    match limits::hit(&app.services, bucket, rule).await {
        Ok(()) => Ok(()),
        Err(AppError::RateLimited { retry_after }) => Err(retry_after),
        Err(e) => panic!("{e:?}"),
    }
}

#[tokio::test]
async fn a_burst_is_followed_by_one_attempt_per_slot_not_a_second_burst() {
    let app = TestApp::spawn().await;
    let rule = FOUR_A_MINUTE;
    let bucket = "test:burst";
    for _ in 0..4 {
        assert_eq!(attempt(&app, bucket, rule).await, Ok(()));
    }
    // A fixed window would make this wait until the window ends (up to 60 s);
    // a leaky bucket frees one slot every 15 s.
    let wait = attempt(&app, bucket, rule).await.unwrap_err();
    assert!((15..=16).contains(&wait), "retry after {wait}");
    age(&app, bucket, 2).await;
    assert!(
        attempt(&app, bucket, rule).await.is_err(),
        "2 s later: no new burst"
    );
    age(&app, bucket, 16).await;
    assert_eq!(attempt(&app, bucket, rule).await, Ok(()), "a slot drained");
    assert!(attempt(&app, bucket, rule).await.is_err(), "only one slot");
}

#[tokio::test]
async fn over_any_span_no_more_pass_than_one_burst_and_the_rate() {
    let app = TestApp::spawn().await;
    let rule = FOUR_A_MINUTE;
    let bucket = "test:sliding";
    // Three attempts every 5 s of virtual time for 4 minutes.
    let mut passed = vec![];
    for step in 0..48i64 {
        if step > 0 {
            age(&app, bucket, 5).await;
        }
        for _ in 0..3 {
            if attempt(&app, bucket, rule).await.is_ok() {
                passed.push(step * 5);
            }
        }
    }
    // A fixed window lets `max` through at the end of one window and `max`
    // more at the start of the next: 8 within seconds. Here any span of `t`
    // seconds holds at most one burst plus what drains in `t`.
    for (i, start) in passed.iter().enumerate() {
        for span in [1, 10, 30, 60] {
            let within = passed[i..]
                .iter()
                .take_while(|t| **t < start + span)
                .count() as i64;
            let bound = 4 + span * 4 / 60;
            assert!(
                within <= bound,
                "{within} passed in the {span} s from {start}: {passed:?}"
            );
        }
    }
    // And the rate is kept: one per 15 s after the first burst.
    assert!(passed.len() >= 4 + 235 / 15, "{passed:?}");
}

/// A log-in's refresh token.
async fn refresh_token_of(app: &TestApp, email: &str) -> String {
    app.user(email).await;
    let q = "mutation($i: LogInInput!) { logIn(input: $i) { refreshToken } }";
    let input = json!({"i": {"email": email, "password": PW}});
    let login = app.gql(Some(&app.pk), None, q, input).await;
    login["data"]["logIn"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn token_refreshes_are_limited_per_account() {
    let app = TestApp::spawn_custom(None, |c| c.refresh_limit_per_account = 2).await;
    let refresh = "mutation($t: String!) { refreshToken(refreshToken: $t) { refreshToken } }";
    let mut rt = refresh_token_of(&app, "rita@example.com").await;
    for _ in 0..2 {
        let res = app.gql(None, None, refresh, json!({"t": rt})).await;
        rt = res["data"]["refreshToken"]["refreshToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{res}"))
            .to_owned();
    }
    let res = app.gql(None, None, refresh, json!({"t": rt})).await;
    assert_eq!(error_code(&res), Some("RATE_LIMITED"), "{res}");
    // Another account is not affected.
    let other = refresh_token_of(&app, "sam@example.com").await;
    let res = app.gql(None, None, refresh, json!({"t": other})).await;
    assert!(
        res["data"]["refreshToken"]["refreshToken"].is_string(),
        "{res}"
    );
}

#[tokio::test]
async fn password_changes_are_limited_per_account_wrong_guesses_included() {
    let app = TestApp::spawn_custom(None, |c| c.password_change_limit_per_account = 2).await;
    let (token, _) = app.user("tess@example.com").await;
    let q = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) { token } }";
    // The right password is refused too once the guesses used the slots.
    let tries = [
        ("guess one", "INVALID_CREDENTIALS"),
        ("guess two", "INVALID_CREDENTIALS"),
        (PW, "RATE_LIMITED"),
    ];
    for (current, code) in tries {
        let input = json!({"i": {"currentPassword": current, "newPassword": "a new passphrase"}});
        let res = app.gql(None, Some(&token), q, input).await;
        assert_eq!(error_code(&res), Some(code), "{current}: {res}");
    }
}
