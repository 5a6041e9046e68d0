//! `GET /account`: a page where a person signs in (password or passkey),
//! sees and ends its sessions, adds and removes passkeys and enrols an
//! authenticator app. Plain HTML and a small script shipped in the binary
//! (`assets/account/`), under the same strict CSP as GraphiQL; off when
//! GraphiQL is off, or with `AUTHGRAPH_ACCOUNT_PAGE=false`.
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::assets::{page_response, url};
use super::state::AppState;

pub async fn account_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| {
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your account</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{css}">
</head><body>
<h1>Your account</h1>
<p id="status" role="status"></p>
<label>Project key <input id="key" placeholder="pk_live_…" autocomplete="off"></label>
<section id="sign-in">
<h2>Sign in</h2>
<label>Email <input id="email" type="email" autocomplete="username webauthn"></label>
<label>Password <input id="password" type="password" autocomplete="current-password"></label>
<button id="log-in">Sign in</button><button id="sign-up">Sign up</button>
<button id="passkey-log-in">Sign in with a passkey</button>
<div id="challenge" class="hidden">
<h2>Second factor</h2>
<p>Answer with one of: <span id="challenge-methods"></span></p>
<button id="challenge-passkey">Use a passkey</button>
<label>Code <input id="challenge-code-input" inputmode="numeric" autocomplete="one-time-code"></label>
<button id="challenge-code">Verify code</button>
</div>
</section>
<section id="account" class="hidden">
<p>Signed in as <strong id="who"></strong> <button id="log-out">Sign out</button></p>
<h2>Passkeys</h2>
<table><thead><tr><th>Name</th><th>Added</th><th>Last used</th><th></th></tr></thead><tbody id="passkeys"></tbody></table>
<label>Name <input id="passkey-name" placeholder="This laptop"></label>
<label>Password (if you signed in more than ten minutes ago) <input id="passkey-password" type="password" autocomplete="current-password"></label>
<button id="add-passkey">Add a passkey</button>
<h2>Authenticator app</h2>
<p>Two-step sign-in with an app: <span id="totp-state"></span></p>
<button id="enrol-totp">Set up an authenticator app</button>
<div id="totp-confirm-box" class="hidden">
<div id="qr"></div><p>Or type the secret: <code id="totp-secret"></code></p>
<label>Code from the app <input id="totp-code" inputmode="numeric" autocomplete="one-time-code"></label>
<button id="totp-confirm">Confirm</button>
</div>
<p id="recovery"></p>
<h2>Sessions</h2>
<table><thead><tr><th>Opened</th><th>Address</th><th>Browser</th><th></th></tr></thead><tbody id="sessions"></tbody></table>
</section>
<script src="{js}"></script>
</body></html>"#,
            css = url("account.css"),
            js = url("account.js"),
        )
    });
    let enabled = state.config.graphiql && state.config.account_page;
    let what = "the account page (AUTHGRAPH_ACCOUNT_PAGE, AUTHGRAPH_GRAPHIQL)";
    page_response(enabled, what, page, &headers)
}
