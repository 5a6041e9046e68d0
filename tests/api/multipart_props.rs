//! Property tests of the multipart parser (`src/http/form.rs`) through the
//! server: text fields built at random come back as sent, and random bytes
//! under a multipart content type are a client error in the dialect's shape,
//! never a 5xx. Bounded case counts (the machine is shared).
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// A multipart body of `fields` under `boundary`.
fn multipart(boundary: &str, fields: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// `n` values of a strategy (the requests go to one server, in a tokio
/// test, so proptest's runner only draws them).
fn samples<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    let mut runner = TestRunner::default();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

/// Field names that are no record field of PocketBase's, and values of any
/// text, line breaks and boundary look-alikes included.
fn fields() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(
        "f_[a-z0-9]{1,8}",
        prop_oneof!["\\PC{0,40}", "[-\r\n a-z]{0,20}", Just("--".to_owned())],
        1..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

#[tokio::test]
async fn random_text_fields_in_a_multipart_body_come_back_as_sent() {
    let app = TestApp::spawn().await;
    let res = app
        .sign_up("mp@example.com", "correct horse battery", json!({}))
        .await;
    let token = res["data"]["signUp"]["token"].as_str().unwrap().to_owned();
    let id = res["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (fields, boundary) in samples((fields(), "[A-Za-z0-9]{8,30}"), 24) {
        // A value holding the boundary line itself would end its part.
        if fields
            .iter()
            .any(|(_, v)| v.contains(&format!("--{boundary}")))
        {
            continue;
        }
        let res = app
            .rest(
                Method::PATCH,
                &format!("/api/collections/users/records/{id}"),
            )
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(multipart(&boundary, &fields))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let record: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{fields:?}: {record}");
        for (name, sent) in &fields {
            // An undeclared field's text is JSON when it parses as JSON.
            let parsed = serde_json::from_str::<Value>(sent).ok();
            let got = &record[name];
            assert!(
                got == &Value::String(sent.clone()) || Some(got) == parsed.as_ref(),
                "{name}: sent {sent:?}, got {got}"
            );
        }
    }
}

#[tokio::test]
async fn random_bytes_under_a_multipart_type_are_a_client_error() {
    let app = TestApp::spawn().await;
    let garbage = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..400),
        // Almost a body: parts cut short, headers missing, no closing line.
        (fields(), 0usize..200).prop_map(|(f, cut)| {
            let mut b = multipart("XyZ", &f);
            b.truncate(cut.min(b.len()));
            b
        }),
    ];
    for body in samples(garbage, 48) {
        let res = app
            .rest(Method::POST, "/api/collections/users/records")
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let reply: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            (400..500).contains(&status),
            "{status} for {:?}: {reply}",
            String::from_utf8_lossy(&body)
        );
        // PocketBase's error shape.
        assert_eq!(reply["status"], status, "{reply}");
        assert!(reply["message"].is_string(), "{reply}");
    }
}
