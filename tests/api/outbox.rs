//! The mail outbox: mail survives an SMTP outage and a restart, is sent once
//! by one of several instances, is not sent after its code expired, and is
//! not readable in the database. The recording mailer stands in for SMTP
//! (`clients/smtp_outage.py` runs the same against a real SMTP server).
use std::time::Duration;

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::TestApp;

const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";

/// A server with a recording mailer that retries at least every second.
async fn app_on(database_url: Option<String>) -> TestApp {
    TestApp::spawn_mailing(move |c| {
        c.mail_retry_max_secs = 1;
        if let Some(url) = database_url {
            c.database_url = url;
        }
    })
    .await
}

/// One outbox row, as stored.
#[derive(Debug)]
struct Row {
    id: String,
    status: String,
    attempts: i32,
    sealed: Option<String>,
    claimed_by: Option<String>,
    expires_at: Option<i64>,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    let db = &app.services.db;
    let sql = "SELECT id, status, attempts, sealed, claimed_by, expires_at FROM mail_outbox ORDER BY created_at, id";
    let found = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
    found
        .into_iter()
        .map(|r| Row {
            id: r.try_get("", "id").unwrap(),
            status: r.try_get("", "status").unwrap(),
            attempts: r.try_get("", "attempts").unwrap(),
            sealed: r.try_get("", "sealed").unwrap(),
            claimed_by: r.try_get("", "claimed_by").unwrap(),
            expires_at: r.try_get("", "expires_at").unwrap(),
        })
        .collect()
}

/// Waits (up to a minute: the machine may be loaded) until `done` holds.
async fn until(app: &TestApp, what: &str, done: impl Fn(&[Row]) -> bool) -> Vec<Row> {
    for _ in 0..1200 {
        let now = rows(app).await;
        if done(&now) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: {:?}", rows(app).await);
}

async fn request_reset(app: &TestApp, email: &str) {
    request_reset_with(app, &app.pk, email).await
}

/// Through `app`, with `pk` (a second instance gets the first one's keys).
async fn request_reset_with(app: &TestApp, pk: &str, email: &str) {
    let res = app.gql(Some(pk), None, REQUEST, json!({"e": email})).await;
    assert_eq!(res["data"]["requestPasswordReset"], true, "{res}");
}

/// Ann's reset mail, queued while SMTP is down, once it failed `attempts`
/// times: the outbox's rows.
async fn ann_reset_failing(app: &TestApp, attempts: i32) -> Vec<Row> {
    app.user("ann@example.com").await;
    app.services.mailer.set_down(true);
    request_reset(app, "ann@example.com").await;
    until(app, "failed attempts", |r| {
        r.len() == 1 && r[0].attempts >= attempts
    })
    .await
}

fn recorded(app: &TestApp) -> Vec<authgraph::mail::Mail> {
    app.outbox.lock().unwrap().clone()
}

#[tokio::test]
async fn a_mail_enqueued_while_smtp_fails_is_delivered_once_after_it_recovers() {
    let app = app_on(None).await;
    // Two failed attempts, then the server comes back.
    ann_reset_failing(&app, 2).await;
    let backlog = authgraph::domain::outbox::backlog(&app.services)
        .await
        .unwrap();
    assert_eq!(backlog.pending, 1);
    assert!(backlog.oldest_secs.is_some());
    assert!(recorded(&app).is_empty());
    app.services.mailer.set_down(false);
    let done = until(&app, "sent", |r| r[0].status == "sent").await;
    // Erased once sent; the metadata stays.
    assert_eq!(done[0].sealed, None);
    let mails = recorded(&app);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ann@example.com");
    assert_eq!(mails[0].subject, "Reset your password");
    let backlog = authgraph::domain::outbox::backlog(&app.services)
        .await
        .unwrap();
    assert_eq!(backlog.pending, 0);
    // A later round sends nothing again.
    request_reset(&app, "nobody@example.com").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(recorded(&app).len(), 1);
}

#[tokio::test]
async fn a_mail_pending_at_shutdown_is_delivered_by_the_next_start_on_the_same_database() {
    let first = app_on(None).await;
    ann_reset_failing(&first, 1).await;
    first.mail_worker.stop().await;
    // Stopped: nothing is left claimed.
    let left = rows(&first).await;
    assert_eq!(
        (left[0].status.as_str(), &left[0].claimed_by),
        ("pending", &None)
    );

    let next = app_on(Some(first.database_url.clone())).await;
    until(&next, "sent by the next start", |r| r[0].status == "sent").await;
    let mails = recorded(&next);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "ann@example.com");
    assert!(recorded(&first).is_empty());
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_mail_once() {
    let a = app_on(None).await;
    let b = app_on(Some(a.database_url.clone())).await;
    let emails: Vec<String> = (0..12).map(|i| format!("user{i}@example.com")).collect();
    for email in &emails {
        a.user(email).await;
    }
    // Queued while both are down, so both compete for the same due rows.
    a.services.mailer.set_down(true);
    b.services.mailer.set_down(true);
    for (i, email) in emails.iter().enumerate() {
        let app = if i % 2 == 0 { &a } else { &b };
        request_reset_with(app, &a.pk, email).await;
    }
    until(&a, "every mail tried", |r| {
        r.len() == emails.len() && r.iter().all(|row| row.attempts >= 1)
    })
    .await;
    a.services.mailer.set_down(false);
    b.services.mailer.set_down(false);
    until(&a, "every mail sent", |r| {
        r.iter().all(|row| row.status == "sent")
    })
    .await;
    let mut to: Vec<String> = recorded(&a)
        .into_iter()
        .chain(recorded(&b))
        .map(|m| m.to)
        .collect();
    to.sort();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(to, expected, "each mail exactly once, by either instance");
}

#[tokio::test]
async fn a_mail_whose_code_expired_before_delivery_is_not_sent() {
    let app = app_on(None).await;
    let r = ann_reset_failing(&app, 1).await;
    // The code's expiry is stored with the mail (30 minutes for a reset).
    let now = chrono::Utc::now().timestamp();
    let expires = r[0].expires_at.expect("an expiry");
    assert!((now + 1700..=now + 1800).contains(&expires), "{expires}");
    // The outage outlives the code.
    let db = &app.services.db;
    let sql = format!(
        "UPDATE mail_outbox SET expires_at = {} WHERE id = '{}'",
        now - 1,
        r[0].id
    );
    db.execute_unprepared(&sql).await.unwrap();
    app.services.mailer.set_down(false);
    let done = until(&app, "expired", |r| r[0].status != "pending").await;
    assert_eq!(done[0].status, "expired");
    assert_eq!(done[0].sealed, None);
    assert!(recorded(&app).is_empty());
}

#[tokio::test]
async fn the_mail_is_not_stored_in_clear() {
    let app = app_on(None).await;
    let r = ann_reset_failing(&app, 1).await;
    let sealed = r[0].sealed.clone().expect("the sealed mail");
    app.services.mailer.set_down(false);
    until(&app, "sent", |r| r[0].status == "sent").await;
    let mail = recorded(&app).remove(0);
    let token = mail
        .body
        .split("Token, for apps that ask for it:\n")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap()
        .to_owned();
    let code = crate::second_factors::code_in(&mail.body);
    for secret in [
        token.as_str(),
        &code,
        "ann@example.com",
        "Reset your password",
        "password",
    ] {
        assert!(!sealed.contains(secret), "{secret} in {sealed}");
    }
    // And no column holds it either.
    let db = &app.services.db;
    let sql = "SELECT * FROM mail_outbox";
    let dump = format!(
        "{:?}",
        db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .unwrap()
    );
    assert!(
        !dump.contains(&token) && !dump.contains("ann@example.com"),
        "{dump}"
    );
}

#[tokio::test]
async fn a_mail_that_keeps_failing_is_given_up_after_its_age_and_erased() {
    let app = app_on(None).await;
    let r = ann_reset_failing(&app, 1).await;
    // Enqueued longer ago than AUTHGRAPH_MAIL_GIVE_UP_SECS (24 h).
    let day_ago = chrono::Utc::now().timestamp_millis() - 86_401_000;
    let sql = format!(
        "UPDATE mail_outbox SET created_at = {day_ago} WHERE id = '{}'",
        r[0].id
    );
    app.services.db.execute_unprepared(&sql).await.unwrap();
    let done = until(&app, "given up", |r| r[0].status != "pending").await;
    assert_eq!(done[0].status, "failed");
    assert_eq!(done[0].sealed, None);
    app.services.mailer.set_down(false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(recorded(&app).is_empty());
    let backlog = authgraph::domain::outbox::backlog(&app.services)
        .await
        .unwrap();
    assert_eq!(backlog.pending, 0);
}
