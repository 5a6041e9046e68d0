// The account page: password or passkey sign-in, sessions, passkeys and an
// authenticator app, all through this server's GraphQL API. No framework,
// no build step; WebAuthn JSON converted by hand so older browsers work too.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;
  const params = new URLSearchParams(location.search);
  if (params.get("key")) store.setItem("ag.key", params.get("key"));
  $("key").value = store.getItem("ag.key") || "";
  let challenge = null;

  function status(text, error) {
    $("status").textContent = text;
    $("status").className = error ? "error" : "";
  }

  async function gql(query, variables, auth) {
    const headers = { "content-type": "application/json" };
    const key = $("key").value.trim();
    if (key) headers["x-api-key"] = key;
    if (auth) headers.authorization = "Bearer " + store.getItem("ag.token");
    const res = await fetch("/graphql", {
      method: "POST", headers, body: JSON.stringify({ query, variables: variables || {} }),
    });
    const body = await res.json();
    if (body.errors && body.errors.length) {
      const e = body.errors[0];
      const code = (e.extensions && e.extensions.code) || "ERROR";
      throw new Error(code + ": " + e.message);
    }
    return body.data;
  }

  // base64url <-> bytes, for the WebAuthn JSON the server speaks.
  function fromB64(s) {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  }
  function toB64(buf) {
    const bytes = new Uint8Array(buf);
    let s = "";
    bytes.forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  const descriptors = (list) => (list || []).map((c) => Object.assign({}, c, { id: fromB64(c.id) }));

  function creationOptions(o) {
    return Object.assign({}, o, {
      challenge: fromB64(o.challenge),
      user: Object.assign({}, o.user, { id: fromB64(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }
  function requestOptions(o) {
    return Object.assign({}, o, {
      challenge: fromB64(o.challenge),
      allowCredentials: descriptors(o.allowCredentials),
    });
  }
  function credentialJSON(c) {
    const r = c.response;
    const response = { clientDataJSON: toB64(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64(r.authenticatorData);
      response.signature = toB64(r.signature);
      if (r.userHandle) response.userHandle = toB64(r.userHandle);
    }
    return {
      id: c.id, rawId: toB64(c.rawId), type: c.type, response,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults(),
    };
  }

  const AUTH = "token user { email } secondFactorRequired { challengeId methods }";

  function signedIn(outcome) {
    if (outcome.secondFactorRequired) {
      challenge = outcome.secondFactorRequired;
      $("challenge-methods").textContent = challenge.methods.join(", ");
      $("challenge").classList.remove("hidden");
      status("A second factor is required.");
      return;
    }
    store.setItem("ag.token", outcome.token);
    challenge = null;
    $("challenge").classList.add("hidden");
    status("Signed in as " + outcome.user.email + ".");
    show();
  }

  async function passkeyLogin(challengeId) {
    const options = (await gql(
      "mutation($c: String) { passkeyLoginOptions(challengeId: $c) }", { c: challengeId }
    )).passkeyLoginOptions;
    const cred = await navigator.credentials.get({ publicKey: requestOptions(options) });
    const data = await gql(
      "mutation($c: JSON!) { finishPasskeyLogin(credential: $c) { " + AUTH + " } }",
      { c: credentialJSON(cred) }
    );
    signedIn(data.finishPasskeyLogin);
  }

  function act(id, fn) {
    $(id).addEventListener("click", async (ev) => {
      ev.preventDefault();
      try { await fn(); } catch (e) { status(e.message || String(e), true); }
    });
  }

  $("key").addEventListener("change", () => store.setItem("ag.key", $("key").value.trim()));
  const credentials = () => ({ i: { email: $("email").value, password: $("password").value } });

  act("sign-up", async () => {
    const d = await gql("mutation($i: SignUpInput!) { signUp(input: $i) { token user { email } } }", credentials());
    signedIn(d.signUp);
  });
  act("log-in", async () => {
    const d = await gql("mutation($i: LogInInput!) { logIn(input: $i) { " + AUTH + " } }", credentials());
    signedIn(d.logIn);
  });
  act("passkey-log-in", () => passkeyLogin(null));
  act("challenge-passkey", () => passkeyLogin(challenge.challengeId));
  act("challenge-code", async () => {
    const d = await gql(
      "mutation($c: String!, $code: String) { verifySecondFactor(challengeId: $c, code: $code) { token user { email } } }",
      { c: challenge.challengeId, code: $("challenge-code-input").value.trim() }
    );
    signedIn(d.verifySecondFactor);
  });
  act("log-out", async () => {
    await gql("mutation { logOut }", {}, true);
    store.removeItem("ag.token");
    $("recovery").textContent = "";
    status("Signed out.");
    show();
  });
  act("add-passkey", async () => {
    const password = $("passkey-password").value;
    const options = (await gql(
      "mutation($p: String) { passkeyRegistrationOptions(password: $p) }",
      { p: password || null }, true
    )).passkeyRegistrationOptions;
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    await gql(
      "mutation($c: JSON!, $n: String) { finishPasskeyRegistration(credential: $c, name: $n) { id } }",
      { c: credentialJSON(cred), n: $("passkey-name").value || null }, true
    );
    status("Passkey added.");
    show();
  });
  act("enrol-totp", async () => {
    const e = (await gql("mutation { enrollTotp { secret qrCodeSvg } }", {}, true)).enrollTotp;
    const img = document.createElement("img");
    img.alt = "QR code for your authenticator app";
    img.src = "data:image/svg+xml;base64," + btoa(e.qrCodeSvg);
    $("qr").replaceChildren(img);
    $("totp-secret").textContent = e.secret;
    $("totp-confirm-box").classList.remove("hidden");
  });
  act("totp-confirm", async () => {
    const d = await gql(
      "mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }",
      { c: $("totp-code").value.trim() }, true
    );
    $("recovery").textContent = "Recovery codes (keep them safe): " + d.confirmTotp.recoveryCodes.join(" ");
    $("totp-confirm-box").classList.add("hidden");
    status("Authenticator app enabled; your other sessions ended.");
    show();
  });

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : text;
    row.appendChild(td);
    return td;
  }
  function button(td, label, fn) {
    const b = document.createElement("button");
    b.textContent = label;
    b.addEventListener("click", async () => {
      try { await fn(); show(); } catch (e) { status(e.message || String(e), true); }
    });
    td.appendChild(b);
  }

  async function show() {
    const token = store.getItem("ag.token");
    if (!token) {
      $("account").classList.add("hidden");
      $("sign-in").classList.remove("hidden");
      return;
    }
    let me;
    try {
      me = (await gql(
        "{ me { email secondFactors { totp } passkeys { id name createdAt lastUsedAt } } sessions { id createdAt ip userAgent current } }",
        {}, true
      ));
    } catch (e) {
      store.removeItem("ag.token");
      status(e.message, true);
      return show();
    }
    $("who").textContent = me.me.email;
    $("sign-in").classList.add("hidden");
    $("account").classList.remove("hidden");
    $("totp-state").textContent = me.me.secondFactors.totp ? "on" : "off";
    const keys = $("passkeys");
    keys.replaceChildren();
    me.me.passkeys.forEach((p) => {
      const tr = document.createElement("tr");
      tr.className = "passkey";
      cell(tr, p.name); cell(tr, p.createdAt); cell(tr, p.lastUsedAt || "never");
      button(cell(tr, ""), "Remove", () => gql("mutation($i: String!) { deletePasskey(id: $i) }", { i: p.id }, true));
      keys.appendChild(tr);
    });
    const sessions = $("sessions");
    sessions.replaceChildren();
    me.sessions.forEach((s) => {
      const tr = document.createElement("tr");
      tr.className = "session";
      cell(tr, s.createdAt); cell(tr, s.ip); cell(tr, s.userAgent);
      const td = cell(tr, s.current ? "this one" : "");
      if (!s.current) button(td, "End", () => gql("mutation($i: String!) { revokeSession(id: $i) }", { i: s.id }, true));
      sessions.appendChild(tr);
    });
  }

  if (!window.PublicKeyCredential) status("This browser has no passkey support (WebAuthn).", true);
  show();
})();
