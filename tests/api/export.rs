//! `exportMe`: a user's own data as one JSON document, and nobody else's.
use serde_json::json;

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn export_me_gives_the_callers_profile_and_sessions_and_needs_a_user_token() {
    let app = TestApp::spawn().await;
    let (token, id) = app.user("export@example.com").await;
    app.user("other@example.com").await;
    app.log_in("export@example.com", "correct horse battery")
        .await;
    let reply = app.gql(None, Some(&token), "{ exportMe }", json!({})).await;
    let doc = &reply["data"]["exportMe"];
    assert_eq!(doc["profile"]["id"], id.as_str(), "{reply}");
    assert_eq!(doc["profile"]["email"], "export@example.com");
    assert_eq!(doc["sessions"].as_array().unwrap().len(), 2, "{doc}");
    assert_eq!(doc["identities"], json!([]));
    let text = doc.to_string();
    assert!(
        !text.contains("other@example.com") && !text.contains("argon2"),
        "{text}"
    );
    let anonymous = app
        .gql(Some(&app.pk), None, "{ exportMe }", json!({}))
        .await;
    assert!(error_code(&anonymous).is_some(), "{anonymous}");
}
