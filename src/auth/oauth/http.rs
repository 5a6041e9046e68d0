//! The client that talks to providers: every call bounded by a timeout, no
//! redirects followed, and the discovery documents and key sets cached.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::types::{rejected, unavailable};
use crate::error::AppResult;

/// How long a discovery document or a key set is used before it is fetched again.
const CACHE_TTL: Duration = Duration::from_secs(3600);
/// The shortest time between two fetches of one document: a token naming an
/// unknown key (anyone can send one to Cocobase's `google-verify`) cannot
/// make every request a call to the provider.
const MIN_REFETCH: Duration = Duration::from_secs(2);

/// The provider client; cheap to clone (its caches are shared).
#[derive(Clone)]
pub struct OAuthHttp {
    client: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, (Instant, serde_json::Value)>>>,
}

impl OAuthHttp {
    /// A client whose every request gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("authgraph")
            .build()
            .expect("a TLS client");
        Self {
            client,
            cache: Arc::default(),
        }
    }

    /// GETs a JSON document, from the cache unless stale; `fresh` asks for a
    /// new copy, which is fetched unless the cached one is very recent.
    pub async fn cached_json(&self, url: &str, fresh: bool) -> AppResult<serde_json::Value> {
        {
            let cache = self.cache.lock().expect("cache lock");
            let max_age = if fresh { MIN_REFETCH } else { CACHE_TTL };
            if let Some((_, v)) = cache.get(url).filter(|(at, _)| at.elapsed() < max_age) {
                return Ok(v.clone());
            }
        }
        let v: serde_json::Value = self.get_json(url, None).await?;
        self.cache
            .lock()
            .expect("cache lock")
            .insert(url.to_owned(), (Instant::now(), v.clone()));
        Ok(v)
    }

    /// GETs a JSON document, with a bearer token when given.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
    ) -> AppResult<T> {
        let mut req = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        read(req.send().await, url).await
    }

    /// POSTs a form (the token endpoint) and reads its JSON answer.
    pub async fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> AppResult<T> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        read(req.send().await, url).await
    }
}

async fn read<T: DeserializeOwned>(
    sent: Result<reqwest::Response, reqwest::Error>,
    url: &str,
) -> AppResult<T> {
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let res = sent.map_err(|e| {
        if e.is_timeout() {
            unavailable(format!("the provider ({host}) did not answer in time"))
        } else {
            unavailable(format!("the provider ({host}) cannot be reached"))
        }
    })?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| {
        if e.is_timeout() {
            unavailable(format!("the provider ({host}) did not answer in time"))
        } else {
            unavailable(format!("the provider ({host}) cut the answer short"))
        }
    })?;
    if status.is_client_error() {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let reason = v["error"].as_str().unwrap_or("refused").to_owned();
        return Err(rejected(format!("the provider refused: {reason}")));
    }
    if !status.is_success() {
        return Err(unavailable(format!(
            "the provider ({host}) answered {status}"
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|_| unavailable(format!("the provider ({host}) answered no valid JSON")))
}
