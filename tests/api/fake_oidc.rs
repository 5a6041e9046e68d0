//! An in-process OpenID provider for tests: discovery, a key set, and a token
//! endpoint that checks PKCE and returns an RS256 ID token minted here. Each
//! test picks the claims (and the faults) of the code it hands out.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEYS: [(&str, &str, &str); 2] = [
    (
        "key-a",
        include_str!("fixtures/oidc_a.pem"),
        include_str!("fixtures/oidc_a.n"),
    ),
    (
        "key-b",
        include_str!("fixtures/oidc_b.pem"),
        include_str!("fixtures/oidc_b.n"),
    ),
];

pub const CLIENT_ID: &str = "client-1";
pub const CLIENT_SECRET: &str = "fake-client-secret";
pub const REDIRECT: &str = "http://app.test/callback";

/// What a code stands for.
#[derive(Clone)]
struct Grant {
    challenge: String,
    nonce: String,
    /// Claims merged over the defaults (`iss`, `aud`, `exp`, `nonce` included).
    claims: Value,
}

#[derive(Default)]
pub struct Inner {
    grants: HashMap<String, Grant>,
    /// The keys the key set publishes, by index into `KEYS`.
    pub published: Vec<usize>,
    /// The key ID tokens are signed with.
    pub signing: usize,
    pub jwks_fetches: usize,
    /// Milliseconds the token endpoint waits before answering.
    pub delay_ms: u64,
    issuer: String,
    /// GitHub's `/user` and `/user/emails` for the code `gh-code`.
    pub github_user: Value,
    pub github_emails: Value,
    /// Set: the provider is Apple's double, and the client authenticates
    /// with a client-secret JWT of this team (see `apple_client_ok`).
    pub apple_team: Option<String>,
    /// The client secrets Apple's double accepted.
    pub apple_secrets: Vec<String>,
}

#[derive(Clone)]
pub struct FakeOidc {
    pub issuer: String,
    pub inner: Arc<Mutex<Inner>>,
}

impl FakeOidc {
    pub async fn start() -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            published: vec![0],
            issuer: issuer.clone(),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/gh/token", post(gh_token))
            .route("/gh/user", get(gh_user))
            .route("/gh/user/emails", get(gh_emails))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeOidc { issuer, inner }
    }

    /// The project file section naming this provider.
    pub fn collection_toml(&self, extra: &str) -> String {
        self.collection_toml_redirects(extra, &[])
    }

    /// The same, with more redirect URLs on the list (the server's own
    /// callback URLs, known once the app listens).
    pub fn collection_toml_redirects(&self, extra: &str, more: &[String]) -> String {
        let mut redirects = vec![format!("\"{REDIRECT}\"")];
        redirects.extend(more.iter().map(|u| format!("\"{u}\"")));
        let redirects = redirects.join(", ");
        format!(
            r#"
[project]
slug = "default"
[[collections]]
name = "users"
{extra}
[[collections.oauth2]]
name = "fake"
provider = "oidc"
issuer = "{}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_urls = [{redirects}]
"#,
            self.issuer
        )
    }

    /// A project file whose `users` offer this server as `provider` (`google`
    /// with its issuer overridden, or `github` with its URLs overridden).
    pub fn collection_toml_as(&self, provider: &str) -> String {
        let iss = &self.issuer;
        format!(
            r#"
[project]
slug = "default"
[[collections]]
name = "users"
[[collections.oauth2]]
name = "{provider}"
provider = "{provider}"
issuer = "{iss}"
authorize_url = "{iss}/gh/authorize"
token_url = "{iss}/gh/token"
api_url = "{iss}/gh"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
redirect_urls = ["{REDIRECT}"]
"#
        )
    }

    /// An ID token for this client, signed with the current key (what
    /// Google's sign-in library hands a web app).
    pub fn id_token(&self, claims: Value) -> String {
        let s = self.inner.lock().unwrap();
        let now = chrono::Utc::now().timestamp();
        let mut all = json!({"iss": s.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300});
        for (k, v) in claims.as_object().unwrap() {
            all[k] = v.clone();
        }
        sign(s.signing, &all)
    }

    /// The user consents at the authorization URL: a code for these claims.
    pub fn authorize(&self, url: &str, claims: Value) -> String {
        let url = reqwest::Url::parse(url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["client_id"], CLIENT_ID);
        let code = format!("code-{}", uuid::Uuid::new_v4());
        self.inner.lock().unwrap().grants.insert(
            code.clone(),
            Grant {
                challenge: q["code_challenge"].clone(),
                nonce: q.get("nonce").cloned().unwrap_or_default(),
                claims,
            },
        );
        code
    }

    /// Makes the code's PKCE challenge one its verifier does not answer.
    pub fn tamper_challenge(&self, code: &str) {
        let mut s = self.inner.lock().unwrap();
        s.grants.get_mut(code).unwrap().challenge = "not-the-challenge".into();
    }

    pub fn set(&self, f: impl FnOnce(&mut Inner)) {
        f(&mut self.inner.lock().unwrap());
    }

    pub fn jwks_fetches(&self) -> usize {
        self.inner.lock().unwrap().jwks_fetches
    }
}

async fn discovery(State(s): State<Arc<Mutex<Inner>>>) -> Json<Value> {
    let iss = s.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "jwks_uri": format!("{iss}/jwks"),
    }))
}

async fn jwks(State(s): State<Arc<Mutex<Inner>>>) -> Json<Value> {
    let mut s = s.lock().unwrap();
    s.jwks_fetches += 1;
    let keys: Vec<Value> = s
        .published
        .iter()
        .map(|&i| {
            json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEYS[i].0,
                   "n": KEYS[i].2.trim(), "e": "AQAB"})
        })
        .collect();
    Json(json!({ "keys": keys }))
}

async fn token(
    State(s): State<Arc<Mutex<Inner>>>,
    Form(form): Form<HashMap<String, String>>,
) -> (axum::http::StatusCode, Json<Value>) {
    let delay = s.lock().unwrap().delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let bad = |e: &str| {
        (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({"error": e})),
        )
    };
    let mut s = s.lock().unwrap();
    if !s.client_ok(&form) {
        return bad("invalid_client");
    }
    // A code is redeemed once.
    let Some(grant) = s
        .grants
        .remove(form.get("code").map(String::as_str).unwrap_or(""))
    else {
        return bad("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return bad("invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": s.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant.nonce,
    });
    for (k, v) in grant.claims.as_object().unwrap() {
        claims[k] = v.clone();
    }
    let id_token = sign(s.signing, &claims);
    (
        axum::http::StatusCode::OK,
        Json(json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token})),
    )
}

fn sign(key: usize, claims: &Value) -> String {
    let (kid, pem, _) = KEYS[key];
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    encode(&header, claims, &key).unwrap()
}

async fn gh_token(Form(form): Form<HashMap<String, String>>) -> Json<Value> {
    // GitHub answers 200 with `{error}` for a bad code.
    let ok = form.get("code").map(String::as_str) == Some("gh-code")
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    Json(if ok {
        json!({"access_token": "gh-at", "token_type": "bearer", "scope": "read:user,user:email"})
    } else {
        json!({"error": "bad_verification_code"})
    })
}

fn gh_authorized(headers: &axum::http::HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gh-at")
}

/// GitHub's API answer for the issued access token, else 401.
fn gh_answer(
    headers: &axum::http::HeaderMap,
    value: Value,
) -> (axum::http::StatusCode, Json<Value>) {
    if !gh_authorized(headers) {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        );
    }
    (axum::http::StatusCode::OK, Json(value))
}

async fn gh_user(
    State(s): State<Arc<Mutex<Inner>>>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    let user = s.lock().unwrap().github_user.clone();
    gh_answer(&headers, user)
}

async fn gh_emails(
    State(s): State<Arc<Mutex<Inner>>>,
    headers: axum::http::HeaderMap,
) -> (axum::http::StatusCode, Json<Value>) {
    let emails = s.lock().unwrap().github_emails.clone();
    gh_answer(&headers, emails)
}

pub const APPLE_TEAM: &str = "TEAM123456";
pub const APPLE_KEY_ID: &str = "KEY0000001";
/// The Apple test key (a P-256 key in PKCS#8 PEM, as Apple's `.p8` file).
pub const APPLE_KEY_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/api/fixtures/apple_key.p8"
);

impl Inner {
    /// The client's credentials: the shared secret, or for Apple's double a
    /// client-secret JWT.
    fn client_ok(&mut self, form: &HashMap<String, String>) -> bool {
        if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
            return false;
        }
        let secret = form.get("client_secret").cloned().unwrap_or_default();
        match self.apple_team.clone() {
            None => secret == CLIENT_SECRET,
            Some(team) => {
                let ok = apple_client_ok(&secret, &team);
                if ok {
                    self.apple_secrets.push(secret);
                }
                ok
            }
        }
    }
}

/// What Apple checks of a client secret: ES256 under the team's key (by
/// `kid`), `iss` the team, `sub` the client, `aud` Apple, not expired.
fn apple_client_ok(secret: &str, team: &str) -> bool {
    let public = include_str!("fixtures/apple_key.pub.pem");
    let Ok(header) = jsonwebtoken::decode_header(secret) else {
        return false;
    };
    let mut v = jsonwebtoken::Validation::new(Algorithm::ES256);
    v.set_audience(&["https://appleid.apple.com"]);
    v.set_issuer(&[team]);
    v.sub = Some(CLIENT_ID.to_owned());
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let key = jsonwebtoken::DecodingKey::from_ec_pem(public.as_bytes()).unwrap();
    header.kid.as_deref() == Some(APPLE_KEY_ID)
        && jsonwebtoken::decode::<Value>(secret, &key, &v).is_ok()
}

impl FakeOidc {
    /// A project file whose `users` offer this server as Apple, its client
    /// secret made from the Apple test key.
    pub fn apple_toml(&self) -> String {
        self.set(|s| s.apple_team = Some(APPLE_TEAM.to_owned()));
        self.collection_toml_as("apple").replace(
            &format!("client_secret = \"{CLIENT_SECRET}\"\n"),
            &format!(
                "team_id = \"{APPLE_TEAM}\"\nkey_id = \"{APPLE_KEY_ID}\"\nprivate_key_file = \"{APPLE_KEY_FILE}\"\n"
            ),
        )
    }
}
