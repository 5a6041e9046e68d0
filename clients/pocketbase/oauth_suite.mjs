// OAuth2 sign-in through the official PocketBase JS SDK (pocketbase@0.28.1)
// against a real OpenID provider (oauth2-mock-server, `clients/oidc/mock.mjs`)
// configured as the generic `oidc` provider `mock`, as `google` and as `github`.
//
// `authWithOAuth2Code`: the providers from `listAuthMethods()`, the
// authorization URL followed as a browser would (plain HTTP; the provider
// approves at once and redirects to the app with `code` and `state`), then the
// code with the listed PKCE verifier. New and returning users for each.
//
// `authWithOAuth2({provider, urlCallback})`, the SDK's one call: its
// realtime client waits on `@oauth2`; the urlCallback follows the URL to the
// provider and on to the server's `/api/oauth2-redirect`, which forwards the
// code to the SDK, which then signs in.
// The account chosen at the provider is the `login_hint` (see `mock.mjs`).
//
// Environment: BASE_URL, OAUTH_REDIRECT (set by `run.sh`).
import { createHash, randomUUID } from "node:crypto";
import PocketBase from "pocketbase";
import { EventSource } from "eventsource";
import { check, expect, expectEq, expectError, summary } from "./harness.mjs";

// Node has no EventSource; the SDK's realtime needs one (as PocketBase documents).
globalThis.EventSource = EventSource;

const BASE_URL = process.env.BASE_URL.replace(/\/+$/, "");
const POPUP_REDIRECT = `${BASE_URL}/api/oauth2-redirect`;
const REDIRECT = process.env.OAUTH_REDIRECT;
const RUN = randomUUID().replace(/-/g, "").slice(0, 8);

function newClient() {
  const pb = new PocketBase(BASE_URL);
  pb.autoCancellation(false);
  return pb;
}

function account(name, verified = true) {
  return {
    sub: `${name}-${RUN}`,
    email: `pb-${name}-${RUN}@example.com`,
    email_verified: verified,
    name: name[0].toUpperCase() + name.slice(1),
    picture: `https://img.example/${name}.png`,
  };
}

/** A browser at the provider: the query of its redirect back to the app. */
export async function follow(url, claims, expectedTarget) {
  const hint = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const res = await fetch(`${url}&login_hint=${hint}`, { redirect: "manual" });
  expect([302, 303].includes(res.status), `the provider answered ${res.status}, not a redirect`);
  const location = res.headers.get("location") ?? "";
  expect(location.startsWith(`${expectedTarget}?`), `redirected to ${location.slice(0, 120)}`);
  return new URL(location).searchParams;
}

async function provider(name) {
  const methods = await newClient().collection("users").listAuthMethods();
  const p = (methods.oauth2?.providers ?? []).find((x) => x.name === name);
  expect(p, `auth-methods lists no provider ${name}: ${JSON.stringify(methods.oauth2)}`);
  return p;
}

/** One sign-in with the code flow: (the SDK's answer, its client). */
async function codeSignIn(name, who, createData) {
  const p = await provider(name);
  const back = await follow(p.authURL + encodeURIComponent(REDIRECT), who, REDIRECT);
  expectEq(back.get("state"), p.state, "the state the provider returned");
  const pb = newClient();
  const auth = await pb.collection("users").authWithOAuth2Code(name, back.get("code"), p.codeVerifier, REDIRECT, createData);
  return { auth, pb, p, code: back.get("code") };
}

function expectSignedIn({ auth, pb }, who, isNew) {
  expectEq(auth.record?.email, who.email, "record.email");
  expectEq(auth.record?.verified, who.email_verified, "record.verified (the provider's email_verified)");
  expectEq(auth.meta?.isNew, isNew, "meta.isNew");
  expectEq(auth.meta?.email, who.email, "meta.email");
  expectEq(auth.meta?.name, who.name, "meta.name");
  expect(pb.authStore.isValid && pb.authStore.record?.id === auth.record.id, "the auth store holds the user");
}

await check("auth-methods lists the three providers with a PKCE S256 challenge of their verifier", async () => {
  const methods = await newClient().collection("users").listAuthMethods();
  expectEq(methods.oauth2?.enabled, true, "oauth2.enabled");
  const names = methods.oauth2.providers.map((p) => p.name).sort();
  expectEq(names, ["github", "google", "mock"], "provider names");
  for (const p of methods.oauth2.providers) {
    expectEq(p.codeChallengeMethod, "S256", `${p.name} codeChallengeMethod`);
    const challenge = createHash("sha256").update(p.codeVerifier).digest("base64url");
    expectEq(p.codeChallenge, challenge, `${p.name} codeChallenge`);
    expect(p.authURL.endsWith("redirect_uri="), `${p.name} authURL does not end in redirect_uri=: ${p.authURL}`);
  }
  expectEq(methods.oauth2.providers.find((p) => p.name === "mock").displayName, "Mock ID", "displayName");
});

const firstIds = {};
for (const name of ["mock", "google", "github"]) {
  const who = account(`${name}-pat`);
  await check(`authWithOAuth2Code with \`${name}\`: a new user from the provider's account`, async () => {
    const signed = await codeSignIn(name, who, {});
    expectSignedIn(signed, who, true);
    firstIds[name] = signed.auth.record.id;
    const refreshed = await signed.pb.collection("users").authRefresh();
    expectEq(refreshed.record.id, signed.auth.record.id, "authRefresh with the OAuth2 token");
    // The provider redeems a code once: the same code again is refused.
    await expectError(
      () => newClient().collection("users").authWithOAuth2Code(name, signed.code, signed.p.codeVerifier, REDIRECT),
      [400, 401],
      "the same code a second time",
    );
  });
  await check(`authWithOAuth2Code with \`${name}\`: the returning user is the same record`, async () => {
    expect(firstIds[name], `skipped: needs the first sign-in with ${name}`);
    const signed = await codeSignIn(name, who);
    expectSignedIn(signed, who, false);
    expectEq(signed.auth.record.id, firstIds[name], "record.id on the second sign-in");
  });
}

await check("authWithOAuth2Code: an unverified provider email gives an unverified record", async () => {
  const who = account("unverified", false);
  expectSignedIn(await codeSignIn("mock", who), who, true);
});

await check("authWithOAuth2Code refuses a redirect URL not on the provider's list", async () => {
  const p = await provider("mock");
  const back = await follow(p.authURL + encodeURIComponent(REDIRECT), account("elsewhere"), REDIRECT);
  await expectError(
    () => newClient().collection("users").authWithOAuth2Code("mock", back.get("code"), p.codeVerifier, "https://evil.example/cb"),
    400,
    "an unlisted redirect URL",
  );
});

await check("authWithOAuth2Code refuses a wrong PKCE verifier (the provider checks it)", async () => {
  const p = await provider("mock");
  const other = await provider("mock");
  const back = await follow(p.authURL + encodeURIComponent(REDIRECT), account("pkce"), REDIRECT);
  await expectError(
    () => newClient().collection("users").authWithOAuth2Code("mock", back.get("code"), other.codeVerifier, REDIRECT),
    [400, 401],
    "another flow's verifier",
  );
});

/** The one-call sign-in; the "browser" follows the URL to the server's redirect page. */
async function popupSignIn(name, who) {
  const pb = newClient();
  let page;
  const auth = await pb.collection("users").authWithOAuth2({
    provider: name,
    urlCallback: async (url) => {
      const back = await follow(url, who, POPUP_REDIRECT);
      const landing = await fetch(`${POPUP_REDIRECT}?${back}`);
      page = { status: landing.status, type: landing.headers.get("content-type") ?? "" };
    },
  });
  expectEq(page?.status, 200, "the redirect page's status");
  expect(page.type.startsWith("text/html"), `the redirect page is not HTML: ${page.type}`);
  return { auth, pb };
}

const popupIds = {};
for (const name of ["mock", "google", "github"]) {
  const who = account(`${name}-popup`);
  await check(`authWithOAuth2({provider: "${name}", urlCallback}) through /api/oauth2-redirect: a new user`, async () => {
    const signed = await popupSignIn(name, who);
    expectSignedIn(signed, who, true);
    popupIds[name] = signed.auth.record.id;
    const refreshed = await signed.pb.collection("users").authRefresh();
    expectEq(refreshed.record.id, popupIds[name], "authRefresh after the one-call sign-in");
  });
  await check(`authWithOAuth2({provider: "${name}", urlCallback}): the returning user is the same record`, async () => {
    expect(popupIds[name], `skipped: needs the first one-call sign-in with ${name}`);
    const signed = await popupSignIn(name, who);
    expectSignedIn(signed, who, false);
    expectEq(signed.auth.record.id, popupIds[name], "record.id on the second sign-in");
  });
}

await check("a sign-in started with authWithOAuth2Code is the same user with authWithOAuth2", async () => {
  const who = account("both-ways");
  const first = await codeSignIn("mock", who);
  expectSignedIn(first, who, true);
  const second = await popupSignIn("mock", who);
  expectSignedIn(second, who, false);
  expectEq(second.auth.record.id, first.auth.record.id, "record.id");
});

summary();
