//! A pending flow's PKCE verifier is stored sealed: the table alone does
//! not give it, and a sealed verifier does not open in another flow's row.
use sea_orm::{ConnectionTrait, Statement};

use crate::fake_oidc::FakeOidc;
use crate::helpers::error_code;
use crate::oauth::{finish, start, world};

fn challenge_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn the_pkce_verifier_is_stored_sealed_and_bound_to_its_flow() {
    let (app, fake): (_, FakeOidc) = world("").await;
    let (url_a, state_a) = start(&app).await;
    let (_, _state_b) = start(&app).await;
    let db = &app.services.db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT state_hash, code_verifier FROM oauth_flows ORDER BY expires_at, state_hash",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let flows: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "state_hash").unwrap(),
                r.try_get("", "code_verifier").unwrap(),
            )
        })
        .collect();
    let challenge = challenge_of(&url_a);
    for (_, stored) in &flows {
        // Not the verifier: a 43-character verifier seals into more, and
        // what is stored does not answer the challenge.
        assert!(stored.len() > 43, "{stored}");
        assert_ne!(authgraph::auth::oauth::pkce::challenge(stored), challenge);
    }

    // Swap the two sealed verifiers: neither flow can finish.
    for (i, (hash, _)) in flows.iter().enumerate() {
        let other = &flows[1 - i].1;
        db.execute_unprepared(&format!(
            "UPDATE oauth_flows SET code_verifier = '{other}' WHERE state_hash = '{hash}'"
        ))
        .await
        .unwrap();
    }
    let code = fake.authorize(&url_a, json_ann());
    let res = finish(&app, &state_a, &code).await;
    assert_eq!(error_code(&res), Some("OAUTH_REJECTED"), "{res}");
}

fn json_ann() -> serde_json::Value {
    serde_json::json!({"sub": "ann-1", "email": "ann@example.com", "email_verified": true})
}
