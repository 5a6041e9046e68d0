// A real OpenID Connect provider for the end-to-end OAuth2 suites:
// oauth2-mock-server (discovery, JWKS, /authorize that approves at once,
// /token with PKCE) on 127.0.0.1:<free port>, plus
//   - the account the "browser" signs in as: the authorize URL's `login_hint`
//     is a base64url JSON of the ID token's claims (`sub`, `email`,
//     `email_verified`, `name`, `picture`), as a person picks an account;
//   - GitHub's shape around the same provider (its token endpoint answers
//     JSON without `grant_type`, and the REST API's `/user` and
//     `/user/emails` for the access token the mock issued);
//   - `POST /_test/id_token {aud, claims}`: an ID token the mock signs, as
//     Google's sign-in library hands one to a web app.
//
// Prints `oidc mock listening on http://127.0.0.1:<port>` once it serves.
import http from "node:http";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const issuer = new OAuth2Issuer();
await issuer.keys.generate("RS256");
const service = new OAuth2Service(issuer);

/** Claims of the account chosen for each code, then for each access token. */
const byCode = new Map();
const byAccessToken = new Map();

function hintClaims(hint) {
  if (typeof hint !== "string" || hint === "") return undefined;
  try {
    return JSON.parse(Buffer.from(hint, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

service.on("beforeAuthorizeRedirect", ({ url }, req) => {
  const code = url.searchParams.get("code");
  const claims = hintClaims(req.query?.login_hint);
  if (code && claims) byCode.set(code, claims);
});

service.on("beforeTokenSigning", (token, req) => {
  const claims = byCode.get(req?.body?.code);
  if (claims) Object.assign(token.payload, claims);
});

service.on("beforeResponse", (response, req) => {
  const code = req?.body?.code;
  const claims = byCode.get(code);
  if (claims && response.body?.access_token) {
    byAccessToken.set(response.body.access_token, claims);
    byCode.delete(code);
  }
});

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function bearerClaims(req) {
  const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "");
  return m ? byAccessToken.get(m[1]) : undefined;
}

let base = "";

// GitHub's token endpoint: the same code redeemed at the mock (PKCE checked
// there when a verifier is sent), answered the GitHub way (200 with `{error}`).
async function githubToken(req, res) {
  const form = new URLSearchParams(await readBody(req));
  form.set("grant_type", "authorization_code");
  const answer = await fetch(`${base}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok || !body.access_token || !byAccessToken.has(body.access_token)) {
    return json(res, 200, { error: "bad_verification_code" });
  }
  json(res, 200, { access_token: body.access_token, token_type: "bearer", scope: "read:user,user:email" });
}

function githubUser(req, res, emails) {
  const c = bearerClaims(req);
  if (!c) return json(res, 401, { message: "Bad credentials" });
  if (emails) {
    return json(res, 200, c.email ? [{ email: c.email, primary: true, verified: c.email_verified === true, visibility: "private" }] : []);
  }
  const id = /^[0-9]+$/.test(String(c.sub)) ? Number(c.sub) : c.sub;
  json(res, 200, { id, login: c.login ?? String(c.sub), name: c.name ?? null, avatar_url: c.picture ?? null });
}

async function idToken(req, res) {
  const { aud, claims } = JSON.parse((await readBody(req)) || "{}");
  const token = await issuer.buildToken({
    expiresIn: 300,
    scopesOrTransform: (_header, payload) => Object.assign(payload, { aud }, claims),
  });
  json(res, 200, { id_token: token });
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  const ours =
    req.method === "POST" && path === "/github/login/oauth/access_token" ? githubToken(req, res)
    : req.method === "GET" && path === "/github/api/user" ? githubUser(req, res, false)
    : req.method === "GET" && path === "/github/api/user/emails" ? githubUser(req, res, true)
    : req.method === "POST" && path === "/_test/id_token" ? idToken(req, res)
    : null;
  if (ours === null) return service.requestHandler(req, res);
  Promise.resolve(ours).catch((e) => json(res, 500, { error: String(e?.message ?? e) }));
});

server.listen(0, "127.0.0.1", () => {
  base = `http://127.0.0.1:${server.address().port}`;
  issuer.url = base;
  console.log(`oidc mock listening on ${base}`);
});

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
