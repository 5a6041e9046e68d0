//! What the schemathesis run (`clients/fuzz/schemathesis.sh`) found, kept as
//! regressions: every GraphQL error carries a stable code, and the OpenAPI
//! document lists the refusals that come before the handlers.
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};

#[tokio::test]
async fn a_graphql_request_that_does_not_validate_carries_a_stable_code() {
    let app = TestApp::spawn().await;
    let pk = app.pk.clone();
    for query in [
        // A required argument left out.
        "mutation { disableUser { id } }",
        // An argument of the wrong type.
        "mutation { enrollTotp(challengeId: 0) { secret } }",
        // An unknown field.
        "{ nosuchfield }",
        // Not GraphQL at all.
        "{ me { ",
    ] {
        let res = app.gql(Some(&pk), None, query, json!({})).await;
        assert_eq!(res["data"], Value::Null, "{query}: {res}");
        let errors = res["errors"].as_array().expect("errors");
        assert!(!errors.is_empty(), "{query}: {res}");
        for e in errors {
            assert_eq!(
                e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
                "{query}: {res}"
            );
        }
    }
    // A resolver's own error keeps its code.
    let res = app.gql(Some(&pk), None, "{ me { id } }", json!({})).await;
    assert_eq!(error_code(&res), Some("UNAUTHENTICATED"), "{res}");
}

/// The statuses `/openapi.json` documents for a method and path.
fn documented(doc: &Value, method: &str, path: &str) -> Vec<String> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_document_lists_the_refusals_that_come_before_the_handlers() {
    let app = TestApp::spawn().await;
    let doc = app.get_json("/openapi.json").await;

    // Cocobase refuses a missing body with 422, and says so.
    let token = app
        .sign_up("fz@example.com", "correct horse battery", json!({}))
        .await["data"]["signUp"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let res = app
        .rest(Method::POST, "/auth-collections/2fa/disable")
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(documented(&doc, "post", "/auth-collections/2fa/disable").contains(&"422".into()));

    // urBackend without its key: 401, documented.
    let res = app
        .rest(Method::POST, "/api/userAuth/verify-email")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(documented(&doc, "post", "/api/userAuth/verify-email").contains(&"401".into()));

    // PocketBase on an unknown collection: 404, documented.
    let res = app
        .rest(Method::GET, "/api/collections/nosuch/records")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        documented(&doc, "get", "/api/collections/{collection}/records").contains(&"404".into())
    );

    // The realtime stream is documented as what it is.
    let content = &doc["paths"]["/api/realtime"]["get"]["responses"]["200"]["content"];
    assert!(content.get("text/event-stream").is_some(), "{content}");
}
