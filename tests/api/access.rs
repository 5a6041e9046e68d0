//! One table of who sees whom, run through every door: the rule is the
//! domain's (`Caller::view_of`, `may_manage`, `list_scope`,
//! `profile::public_view`), so every door must agree with it.
use authgraph::domain::apply;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ReplyExt, TestApp, error_code};

const PW: &str = "correct horse battery";

/// Who is asking.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// Ann herself (her user token).
    Owner,
    /// Bob, another signed-in user.
    Other,
    /// The project's secret key.
    Admin,
    /// Nobody signed in (the publishable key where a door needs one).
    Guest,
}

struct World {
    app: TestApp,
    ann: String,
    ann_token: String,
    bob_token: String,
}

async fn world(file: Option<&str>) -> World {
    let app = TestApp::spawn().await;
    if let Some(f) = file {
        apply::apply_with(&app.services, &apply::parse(f).unwrap())
            .await
            .unwrap();
    }
    let profile = json!({"username": "ann", "city": "Oslo", "age": 31, "apiSecret": "s3cr3t"});
    let res = app.sign_up("ann@example.com", PW, profile).await;
    let ann = res["data"]["signUp"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ann_token = res["data"]["signUp"]["token"].as_str().unwrap().to_owned();
    let (bob_token, _) = app.user("bob@example.com").await;
    World {
        app,
        ann,
        ann_token,
        bob_token,
    }
}

impl World {
    fn request(&self, who: Who, method: Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.app.rest(method, path);
        match who {
            Who::Owner => req.bearer_auth(&self.ann_token),
            Who::Other => req.bearer_auth(&self.bob_token),
            Who::Admin => req.header("x-api-key", &self.app.sk),
            Who::Guest => req.header("x-api-key", &self.app.pk),
        }
    }

    /// What Cocobase's `users/{id}` shows of Ann: `Some(data)`, and whether the
    /// email was shown.
    async fn cocobase(&self, who: Who) -> (Value, bool) {
        let path = format!("/auth-collections/users/{}", self.ann);
        let res = self.request(who, Method::GET, &path).reply().await;
        assert_eq!(res.status, 200, "{who:?}: {}", res.body);
        (res.body["data"].clone(), res.body.get("email").is_some())
    }

    /// Whether PocketBase's record view shows Ann (it hides what it may not show).
    async fn pocketbase_sees(&self, who: Who) -> bool {
        let path = format!("/api/collections/users/records/{}", self.ann);
        let res = self.request(who, Method::GET, &path).reply().await;
        assert!(matches!(res.status, 200 | 404), "{who:?}: {}", res.body);
        res.status == 200
    }

    /// How many users GraphQL's `users` lists, or the error code.
    async fn graphql_list(&self, who: Who) -> Result<usize, String> {
        let (key, token) = match who {
            Who::Owner => (None, Some(self.ann_token.as_str())),
            Who::Other => (None, Some(self.bob_token.as_str())),
            Who::Admin => (Some(self.app.sk.as_str()), None),
            Who::Guest => (Some(self.app.pk.as_str()), None),
        };
        let res = self
            .app
            .gql(key, token, "{ users { edges { node { id } } } }", json!({}))
            .await;
        match error_code(&res) {
            Some(code) => Err(code.to_owned()),
            None => Ok(res["data"]["users"]["edges"].as_array().unwrap().len()),
        }
    }

    /// How many records PocketBase's list shows.
    async fn pocketbase_list(&self, who: Who) -> usize {
        let res = self
            .request(who, Method::GET, "/api/collections/users/records")
            .reply()
            .await;
        assert_eq!(res.status, 200, "{who:?}: {}", res.body);
        res.body["items"].as_array().unwrap().len()
    }

    /// urBackend's `public/ann` (the publishable key is all it needs).
    async fn urbackend_public(&self) -> Value {
        let res = self
            .request(Who::Guest, Method::GET, "/api/userAuth/public/ann")
            .reply()
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let mut doc = res.body.as_object().unwrap().clone();
        for k in ["_id", "createdAt", "updatedAt"] {
            doc.remove(k);
        }
        Value::Object(doc)
    }
}

#[tokio::test]
async fn every_door_applies_one_table_of_who_sees_whom() {
    let w = world(None).await;
    let full = json!({"username": "ann", "city": "Oslo", "age": 31, "apiSecret": "s3cr3t"});
    // Undeclared collection: the public view is every field but secret-looking ones.
    let public = json!({"username": "ann", "city": "Oslo", "age": 31});
    // (who, full view, GraphQL list, PocketBase list)
    let table = [
        (Who::Owner, true, Ok(1), 1),
        (Who::Other, false, Ok(1), 1),
        (Who::Admin, true, Ok(2), 2),
        (Who::Guest, false, Err("FORBIDDEN".to_owned()), 0),
    ];
    for (who, sees_all, gql_list, pb_list) in table {
        let (data, email) = w.cocobase(who).await;
        if sees_all {
            assert_eq!(data, full, "{who:?}");
        } else {
            assert_eq!(data, public, "{who:?}");
        }
        assert_eq!(email, sees_all, "{who:?}");
        assert_eq!(w.pocketbase_sees(who).await, sees_all, "{who:?}");
        assert_eq!(w.graphql_list(who).await, gql_list, "{who:?}");
        assert_eq!(w.pocketbase_list(who).await, pb_list, "{who:?}");
    }
    assert_eq!(w.urbackend_public().await, public);
}

const DECLARED: &str = "[project]\nslug = 'default'\n[[collections]]\nname = 'users'\n[[collections.fields]]\nname = 'city'\ntype = 'text'\npublic = true\n[[collections.fields]]\nname = 'age'\ntype = 'number'\n";

#[tokio::test]
async fn declared_public_fields_are_the_whole_public_view_in_every_door() {
    let w = world(Some(DECLARED)).await;
    let public = json!({"city": "Oslo"});
    assert_eq!(w.cocobase(Who::Other).await, (public.clone(), false));
    assert_eq!(w.cocobase(Who::Guest).await, (public.clone(), false));
    assert_eq!(w.urbackend_public().await, public);
    // GraphQL: Bob sees Ann through a relation in the same public view.
    let bob = w
        .app
        .update_me(&w.bob_token, json!({"data": {"referred_by": w.ann}}))
        .await;
    assert!(bob["errors"].is_null(), "{bob}");
    let res = w
        .app
        .gql(
            None,
            Some(&w.bob_token),
            "{ me { related(field: \"referred_by\") { id email data } } }",
            json!({}),
        )
        .await;
    let seen = &res["data"]["me"]["related"];
    assert_eq!(seen["id"], w.ann.as_str(), "{res}");
    assert!(seen["email"].is_null(), "{res}");
    assert_eq!(seen["data"], public, "{res}");
}
