// Passkeys in a real browser: headless Chromium (Debian's `chromium`, driven
// by playwright-core) with the DevTools protocol's virtual authenticator
// (`WebAuthn.addVirtualAuthenticator`: resident keys, user verification) on
// the server's own /account page at http://localhost:PORT (a secure context,
// relying party `localhost`). It signs up with a password, adds a passkey,
// signs out, signs in with the passkey alone (no email), ends another
// session, enrols an authenticator app from its QR code's secret, and
// answers the password log-in's second-factor challenge with the passkey.
// Requests to other hosts and CSP violations fail it. Screenshots go to
// clients/browser/screenshots/ (passkeys-*.png).
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { check, expect, gql, summary } from "../suite.mjs";

const SERVER = new URL(process.env.BASE_URL);
// WebAuthn needs a secure context: http://localhost is one, 127.0.0.1 is too,
// but only `localhost` is a valid relying-party id.
const BASE = `http://localhost:${SERVER.port}`;
const PK = process.env.PK;
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "screenshots");
const executablePath = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"]
  .find((p) => p && existsSync(p));
if (!executablePath) {
  const ci = process.env.CI === "true";
  console.log(ci ? "FAIL - chromium not found (install Debian's `chromium` or set CHROMIUM_PATH)" : "skipped: chromium not found; runs in CI");
  console.log(ci ? "0 passed, 1 failed" : "0 passed, 0 failed");
  process.exit(ci ? 1 : 0);
}

/// RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret.
function totp(secret) {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const bytes = [];
  for (const c of secret.replace(/=+$/, "")) {
    value = ((value << 5) | A.indexOf(c)) & 0xffff;
    bits += 5;
    if (bits >= 8) { bytes.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const h = createHmac("sha1", Buffer.from(bytes)).update(msg).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
const context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
const foreign = [];
const violations = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (new URL(url).origin === BASE) return route.continue();
  foreign.push(url);
  return route.abort("blockedbyclient");
});
const page = await context.newPage();
page.on("console", (msg) => {
  if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
});
page.on("pageerror", (e) => violations.push(`page error: ${e.message}`));

const cdp = await context.newCDPSession(page);
await cdp.send("WebAuthn.enable");
const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
  options: {
    protocol: "ctap2", transport: "internal", hasResidentKey: true,
    hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
  },
});

const email = `passkey-${randomUUID()}@example.com`;
const password = "correct horse battery";
const status = () => page.locator("#status").textContent();
async function signedIn() {
  await page.locator("#account").waitFor({ state: "visible", timeout: 15000 });
  await page.locator("#who", { hasText: email }).waitFor({ timeout: 15000 }).catch(() => {});
  const who = await page.locator("#who").textContent();
  expect(who === email, `signed in as ${who}, status: ${await status()}`);
}
async function signOut() {
  await page.locator("#log-out").click();
  await page.locator("#sign-in").waitFor({ state: "visible", timeout: 15000 });
}

await check("/account on localhost signs up with a password", async () => {
  const res = await page.goto(`${BASE}/account?key=${encodeURIComponent(PK)}`);
  expect(res.status() === 200, `status ${res.status()}`);
  expect(await page.evaluate(() => window.isSecureContext), "not a secure context");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#sign-up");
  await signedIn();
});

await check("a passkey is added on /account and kept by the authenticator as a resident key", async () => {
  await page.fill("#passkey-name", "Chromium virtual authenticator");
  await page.click("#add-passkey");
  await page.locator("tr.passkey").first().waitFor({ timeout: 15000 });
  const row = await page.locator("tr.passkey").first().textContent();
  expect(row.includes("Chromium virtual authenticator"), `row: ${row}, status: ${await status()}`);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1, `${credentials.length} credentials`);
  expect(credentials[0].isResidentCredential, "not a resident (discoverable) credential");
  expect(credentials[0].rpId === "localhost", `rp id ${credentials[0].rpId}`);
  await page.screenshot({ path: join(SHOTS, "passkeys-added.png"), fullPage: true });
});

await check("after signing out, the passkey alone signs in (no email typed)", async () => {
  await signOut();
  await page.fill("#email", "");
  await page.fill("#password", "");
  await page.click("#passkey-log-in");
  await signedIn();
  const used = await page.locator("tr.passkey").first().textContent();
  expect(!used.includes("never"), `last use not recorded: ${used}`);
});

await check("another session is listed and ended from the page", async () => {
  await gql("mutation($i: LogInInput!) { logIn(input: $i) { token } }", { i: { email, password } }, { "x-api-key": PK });
  await page.reload();
  await signedIn();
  await page.waitForFunction(() => document.querySelectorAll("tr.session").length === 2, null, { timeout: 15000 });
  await page.locator("tr.session button", { hasText: "End" }).first().click();
  await page.waitForFunction(() => document.querySelectorAll("tr.session").length === 1, null, { timeout: 15000 });
});

await check("an authenticator app is enrolled from the QR code's secret", async () => {
  await page.click("#enrol-totp");
  await page.locator("#qr img").waitFor({ timeout: 15000 });
  const secret = (await page.locator("#totp-secret").textContent()).trim();
  await page.fill("#totp-code", totp(secret));
  await page.click("#totp-confirm");
  await page.locator("#recovery", { hasText: "Recovery codes" }).waitFor({ timeout: 15000 });
  await page.locator("#totp-state", { hasText: "on" }).waitFor({ timeout: 15000 });
  expect((await page.locator("#totp-state").textContent()) === "on", `status: ${await status()}`);
});

await check("a password log-in's second-factor challenge is answered with the passkey", async () => {
  await signOut();
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("#log-in");
  await page.locator("#challenge").waitFor({ state: "visible", timeout: 15000 });
  const methods = await page.locator("#challenge-methods").textContent();
  expect(methods.includes("passkey") && methods.includes("totp"), `methods: ${methods}`);
  await page.screenshot({ path: join(SHOTS, "passkeys-challenge.png"), fullPage: true });
  await page.click("#challenge-passkey");
  await signedIn();
  await page.screenshot({ path: join(SHOTS, "passkeys-signed-in.png"), fullPage: true });
});

await check("no request went to another host and no Content-Security-Policy violation", async () => {
  expect(foreign.length === 0, `requests to other hosts: ${foreign.join(", ")}`);
  expect(violations.length === 0, `violations: ${violations.join(" | ")}`);
});

await browser.close();
summary();
