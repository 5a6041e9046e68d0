// Drives the official PocketBase JS SDK (pocketbase@0.28.1) against authgraph.
//
// Environment: BASE_URL, SU_EMAIL, SU_PASSWORD.
// Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
// Exits 1 when any check failed.
import { randomUUID } from "node:crypto";
import zlib from "node:zlib";
import PocketBase from "pocketbase";
import { CheckFailed, check, expect, expectEq, expectError, summary } from "./harness.mjs";
import { EventSource } from "eventsource";

// Node has no EventSource; the SDK's realtime needs one (as PocketBase documents).
globalThis.EventSource = EventSource;

const BASE_URL = process.env.BASE_URL.replace(/\/+$/, "");
const SU_EMAIL = process.env.SU_EMAIL;
const SU_PASSWORD = process.env.SU_PASSWORD;

function newClient() {
  const pb = new PocketBase(BASE_URL);
  pb.autoCancellation(false);
  return pb;
}

function jwtPayload(token) {
  const parts = String(token).split(".");
  expect(parts.length === 3, `token is not a JWT: ${String(token).slice(0, 40)}`);
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}

/** Same header and payload, signature altered in its first characters. */
function forge(token) {
  const [h, p, sig] = String(token).split(".");
  const bad = [...sig.slice(0, 8)].map((c) => (c === "A" ? "B" : "A")).join("") + sig.slice(8);
  return `${h}.${p}.${bad}`;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET_FIELDS = ["password", "passwordConfirm", "oldPassword", "tokenKey"];

function expectUserRecord(rec, what) {
  expect(rec && typeof rec === "object", `${what}: not an object: ${JSON.stringify(rec)}`);
  expect(/^[a-z0-9]{15}$/.test(rec.id ?? ""), `${what}: id is not 15 chars [a-z0-9]: ${JSON.stringify(rec.id)}`);
  expectEq(rec.collectionName, "users", `${what}: collectionName`);
  expect(typeof rec.collectionId === "string" && rec.collectionId, `${what}: collectionId missing`);
  expect(DATE_RE.test(rec.created ?? ""), `${what}: created not "YYYY-MM-DD HH:MM:SS.sssZ": ${JSON.stringify(rec.created)}`);
  expect(DATE_RE.test(rec.updated ?? ""), `${what}: updated not "YYYY-MM-DD HH:MM:SS.sssZ": ${JSON.stringify(rec.updated)}`);
  expect(typeof rec.verified === "boolean", `${what}: verified is not a boolean`);
  expect(typeof rec.emailVisibility === "boolean", `${what}: emailVisibility is not a boolean`);
  const leaked = SECRET_FIELDS.filter((k) => k in rec);
  expect(leaked.length === 0, `${what}: secret field(s) returned: ${leaked}`);
  expect(!("data" in rec), `${what}: profile fields must be flat, found a \`data\` key`);
}

// ------------------------------------------------------------------- flow
const RUN = randomUUID().replace(/-/g, "").slice(0, 12);
const EMAIL = `pb-${RUN}@example.com`;
const OTHER_EMAIL = `pb-other-${RUN}@example.com`;
const PASSWORD = "pb-password-1";
const NEW_PASSWORD = "pb-password-2";
// State shared between checks; reading a missing key means an earlier check failed.
const S = new Proxy(
  {},
  {
    get(target, key) {
      if (typeof key === "string" && !(key in target)) {
        throw new CheckFailed(`skipped: needs \`${key}\` from an earlier check that failed`);
      }
      return target[key];
    },
  },
);

const pb = newClient();
const users = () => pb.collection("users");

await check("create: returns the record (15-char id, collectionName, flat name); not logged in", async () => {
  const rec = await users().create({ email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD, name: "Ann" });
  expectUserRecord(rec, "created record");
  expectEq(rec.name, "Ann", "name");
  expectEq(rec.verified, false, "verified");
  expect(!pb.authStore.isValid, "create must not log the client in");
  S.id = rec.id;
});

await check("create: a second user (for access checks)", async () => {
  const other = await newClient()
    .collection("users")
    .create({ email: OTHER_EMAIL, password: PASSWORD, passwordConfirm: PASSWORD, name: "Other" });
  expectUserRecord(other, "second record");
  expect(other.id !== S.id, "second user got the same id");
  S.otherId = other.id;
});

await check("create: duplicate email rejected (400, response.data.email)", async () => {
  const err = await expectError(
    () => newClient().collection("users").create({ email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }),
    400,
    "duplicate create",
  );
  const field = err.response?.data?.email;
  expect(field && typeof field.code === "string" && typeof field.message === "string",
    `response.data.email should be {code, message}: ${JSON.stringify(err.response)}`);
  expectEq(err.response.status, 400, "response.status");
  expect(typeof err.response.message === "string" && err.response.message, "response.message missing");
});

await check("create: passwordConfirm mismatch rejected (400, response.data.passwordConfirm)", async () => {
  const err = await expectError(
    () => newClient().collection("users").create({
      email: `pb-mismatch-${RUN}@example.com`, password: PASSWORD, passwordConfirm: "something-else",
    }),
    400,
    "mismatched passwordConfirm",
  );
  expect(err.response?.data?.passwordConfirm, `response.data.passwordConfirm missing: ${JSON.stringify(err.response)}`);
});

await check("authWithPassword: token + record, authStore valid", async () => {
  const auth = await users().authWithPassword(EMAIL, PASSWORD);
  expect(typeof auth.token === "string", "no token");
  expectUserRecord(auth.record, "auth record");
  expectEq(auth.record.id, S.id, "record.id");
  expectEq(auth.record.email, EMAIL, "record.email");
  expect(pb.authStore.isValid, "authStore.isValid is false (token must be a JWT with a future exp)");
  expectEq(pb.authStore.record?.id, S.id, "authStore.record.id");
  expect(!pb.authStore.isSuperuser, "a users record must not be a superuser");
  const payload = jwtPayload(auth.token);
  expectEq(payload.id, S.id, "token payload id");
  expectEq(payload.type, "auth", "token payload type");
  expectEq(payload.collectionId, auth.record.collectionId, "token payload collectionId");
  expect(typeof payload.exp === "number", "token payload exp is not a number");
  S.record = auth.record;
  S.token = auth.token;
});

await check("authWithPassword: wrong password rejected (400)", async () => {
  const c = newClient();
  await expectError(() => c.collection("users").authWithPassword(EMAIL, "not-the-password"), 400, "wrong password");
  expect(!c.authStore.isValid, "authStore holds a token after a failed login");
});

await check("getOne(own id): own record with email", async () => {
  const rec = await users().getOne(S.id);
  expectUserRecord(rec, "own record");
  expectEq(rec.id, S.id, "id");
  expectEq(rec.email, EMAIL, "email");
  expectEq(rec.name, "Ann", "name");
});

await check("getOne(other user's id): 404 for a normal user", async () => {
  await expectError(() => users().getOne(S.otherId), 404, "getOne of another user");
});

await check("update(id, {name}): updated record, merged into authStore", async () => {
  const rec = await users().update(S.id, { name: "Bob" });
  expectUserRecord(rec, "updated record");
  expectEq(rec.id, S.id, "id");
  expectEq(rec.name, "Bob", "name");
  expectEq(pb.authStore.record?.name, "Bob", "authStore.record.name");
  expectEq((await users().getOne(S.id)).name, "Bob", "name re-read with getOne");
});

await check("authRefresh: new token + record", async () => {
  const auth = await users().authRefresh();
  expect(typeof auth.token === "string", "no token");
  expectUserRecord(auth.record, "refreshed record");
  expectEq(auth.record.id, S.id, "record.id");
  expectEq(auth.record.name, "Bob", "record.name");
  expect(pb.authStore.isValid, "authStore.isValid false after authRefresh");
  expectEq(jwtPayload(auth.token).id, S.id, "token payload id");
  S.token = auth.token;
});

await check("authRefresh without a token: 401", async () => {
  await expectError(() => newClient().collection("users").authRefresh(), 401, "authRefresh without auth");
});

await check("forged token rejected (authRefresh 401, getOne 401/403/404)", async () => {
  const c = newClient();
  c.authStore.save(forge(S.token), S.record);
  await expectError(() => c.collection("users").authRefresh(), 401, "authRefresh with a forged token");
  await expectError(() => c.collection("users").getOne(S.id), [401, 403, 404], "getOne with a forged token");
});

await check("update(password): wrong oldPassword rejected (400, response.data.oldPassword)", async () => {
  const err = await expectError(
    () => users().update(S.id, { oldPassword: "not-the-password", password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }),
    400,
    "wrong oldPassword",
  );
  expect(err.response?.data?.oldPassword, `response.data.oldPassword missing: ${JSON.stringify(err.response)}`);
});

await check("update(password): old token rejected, new password works", async () => {
  const oldToken = pb.authStore.token;
  const rec = await users().update(S.id, { oldPassword: PASSWORD, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD });
  expectUserRecord(rec, "record after password change");
  const stale = newClient();
  stale.authStore.save(oldToken, S.record);
  await expectError(() => stale.collection("users").getOne(S.id), [401, 403, 404], "getOne with the pre-change token");
  await expectError(() => newClient().collection("users").authWithPassword(EMAIL, PASSWORD), 400, "login with the old password");
  const auth = await users().authWithPassword(EMAIL, NEW_PASSWORD);
  expectEq(auth.record.id, S.id, "record.id after login with the new password");
  expect(pb.authStore.isValid, "authStore.isValid false after login with the new password");
});

const su = newClient();

await check("superuser: _superusers authWithPassword", async () => {
  const auth = await su.collection("_superusers").authWithPassword(SU_EMAIL, SU_PASSWORD);
  expect(typeof auth.token === "string", "no token");
  expectEq(auth.record?.collectionName, "_superusers", "record.collectionName");
  expectEq(auth.record?.email, SU_EMAIL, "record.email");
  expect(su.authStore.isValid, "authStore.isValid false");
  expect(su.authStore.isSuperuser, "authStore.isSuperuser false (payload type must be `auth`)");
});

await check("superuser: getList(1, 50) includes the user, totalItems >= 1", async () => {
  const list = await su.collection("users").getList(1, 50);
  expectEq(list.page, 1, "page");
  expectEq(list.perPage, 50, "perPage");
  expect(Number.isInteger(list.totalItems) && list.totalItems >= 1, `totalItems: ${list.totalItems}`);
  expect(Number.isInteger(list.totalPages) && list.totalPages >= 1, `totalPages: ${list.totalPages}`);
  expect(Array.isArray(list.items), "items is not an array");
  const mine = list.items.find((r) => r.id === S.id);
  expect(mine, `user ${S.id} not in items (${list.items.length} items)`);
  expectUserRecord(mine, "listed record");
  expectEq(mine.email, EMAIL, "listed email (superusers see emails)");
  expect(list.items.some((r) => r.id === S.otherId), "second user not in items");
});

await check("superuser: getList with filter", async () => {
  const list = await su.collection("users").getList(1, 10, { filter: su.filter("email = {:e}", { e: EMAIL }) });
  expectEq(list.items.map((r) => r.id), [S.id], "ids for the email filter");
  expectEq(list.totalItems, 1, "totalItems for the email filter");
});

await check("superuser: getFullList includes the user", async () => {
  const all = await su.collection("users").getFullList();
  expect(Array.isArray(all), "not an array");
  expect(all.some((r) => r.id === S.id), `user ${S.id} not in the full list (${all.length} items)`);
  expect(all.some((r) => r.id === S.otherId), "second user not in the full list");
});

await check("superuser: getList skipTotal reports -1 totals", async () => {
  const list = await su.collection("users").getList(1, 50, { skipTotal: true });
  expectEq(list.totalItems, -1, "totalItems");
  expectEq(list.totalPages, -1, "totalPages");
  expect(list.items.some((r) => r.id === S.id), "user not in items");
});

await check("normal user: getList returns only its own record", async () => {
  const list = await users().getList(1, 50);
  expectEq(list.items.map((r) => r.id), [S.id], "item ids");
  expectEq(list.totalItems, 1, "totalItems");
});

await check("guest: getList returns no records", async () => {
  const list = await newClient().collection("users").getList(1, 50);
  expectEq(list.items.length, 0, "items for a guest");
});

await check("realtime: subscriptions get events named as subscribed, only for records the client may view", async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const waitFor = async (cond, what) => {
    for (let i = 0; i < 50 && !cond(); i++) await sleep(100);
    expect(cond(), `timed out waiting for ${what}`);
  };
  const other = newClient();
  await other.collection("users").authWithPassword(OTHER_EMAIL, PASSWORD);
  const suEvents = [];
  const otherEvents = [];
  const unsubSu = await su.collection("users").subscribe("*", (e) => suEvents.push(e));
  const unsubOwn = await other.collection("users").subscribe(S.otherId, (e) => otherEvents.push(["own", e]));
  const unsubStar = await other.collection("users").subscribe("*", (e) => otherEvents.push(["star", e]));
  try {
    // A change to the first user: the superuser sees it; the other user must not.
    await users().update(S.id, { name: "Seen by superusers" });
    await other.collection("users").update(S.otherId, { name: "Realtime" });
    await waitFor(() => suEvents.length >= 2 && otherEvents.length >= 2, "two events on each client");
    await sleep(300);
    const suUpdate = suEvents.find((e) => e.record.id === S.otherId);
    expect(suUpdate && suUpdate.action === "update", "superuser got no update of the second user");
    expectEq(suUpdate.record.name, "Realtime", "record.name in the event");
    expect(suEvents.some((e) => e.record.id === S.id), "superuser got no update of the first user");
    expect(otherEvents.every(([, e]) => e.record.id === S.otherId), "a user received another user's record");
    expectEq(otherEvents.map(([via]) => via).sort(), ["own", "star"], "events per subscription");
  } finally {
    await unsubSu();
    await unsubOwn();
    await unsubStar();
  }
});

// The text of the newest mail to `address` that the real SMTP server (aiosmtpd)
// stored in its Maildir.
async function mailTo(address) {
  const { readdirSync, readFileSync, existsSync } = await import("node:fs");
  const dir = `${process.env.MAILDIR}/new`;
  for (let i = 0; i < 100; i++) {
    if (existsSync(dir)) {
      const texts = readdirSync(dir)
        .map((f) => readFileSync(`${dir}/${f}`, "utf8"))
        .filter((t) => new RegExp(`^To: .*${address.replace(/[.+]/g, "\\$&")}`, "mi").test(t));
      if (texts.length) {
        // Undo quoted-printable soft breaks and escapes, if the body used them.
        return texts[texts.length - 1]
          .replace(/=\r?\n/g, "")
          .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CheckFailed(`no mail to ${address} reached the SMTP server`);
}

await check("requestPasswordReset + confirmPasswordReset: token mailed by SMTP, works once", async () => {
  const email = `pb-reset-${RUN}@example.com`;
  await newClient().collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  const client = newClient();
  expectEq(await client.collection("users").requestPasswordReset(email), true, "requestPasswordReset");
  expectEq(await client.collection("users").requestPasswordReset(`nobody-${RUN}@example.com`), true,
    "requestPasswordReset for an unknown email");
  const text = await mailTo(email);
  const token = text.split("Token, for apps that ask for it:")[1]?.trim().split(/\s+/)[0];
  expect(token && token.length >= 40, `no token in the mail: ${text.slice(0, 400)}`);
  await expectError(
    () => client.collection("users").confirmPasswordReset(token, NEW_PASSWORD, "something-else"),
    400,
    "mismatched passwordConfirm",
  );
  expectEq(await client.collection("users").confirmPasswordReset(token, NEW_PASSWORD, NEW_PASSWORD), true,
    "confirmPasswordReset");
  await newClient().collection("users").authWithPassword(email, NEW_PASSWORD);
  await expectError(() => newClient().collection("users").authWithPassword(email, PASSWORD), 400, "the old password");
  await expectError(
    () => client.collection("users").confirmPasswordReset(token, PASSWORD, PASSWORD),
    400,
    "the token a second time",
  );
});

await check("requestVerification + confirmVerification: token mailed by SMTP, record verified", async () => {
  const email = `pb-verify-${RUN}@example.com`;
  await newClient().collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  const client = newClient();
  expectEq(await client.collection("users").requestVerification(email), true, "requestVerification");
  const text = await mailTo(email);
  expect(/Confirm your email address/.test(text), "the mail is not a verification mail");
  const token = text.split("Token, for apps that ask for it:")[1]?.trim().split(/\s+/)[0];
  expect(token && token.length >= 40, `no token in the mail: ${text.slice(0, 400)}`);
  expectEq(await client.collection("users").confirmVerification(token), true, "confirmVerification");
  const auth = await newClient().collection("users").authWithPassword(email, PASSWORD);
  expectEq(auth.record.verified, true, "record.verified after confirmVerification");
  await expectError(() => client.collection("users").confirmVerification(token), 400, "the token a second time");
});

await check("requestEmailChange + confirmEmailChange: token mailed to the new address by SMTP", async () => {
  const email = `pb-move-${RUN}@example.com`;
  const moved = `pb-moved-${RUN}@example.com`;
  await newClient().collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  const client = newClient();
  await client.collection("users").authWithPassword(email, PASSWORD);
  expectEq(await client.collection("users").requestEmailChange(moved), true, "requestEmailChange");
  const text = await mailTo(moved);
  const token = text.split("Token, for apps that ask for it:")[1]?.trim().split(/\s+/)[0];
  expect(token && token.length >= 40, `no token in the mail: ${text.slice(0, 400)}`);
  await expectError(() => newClient().collection("users").confirmEmailChange(token, "not-the-password"), 400,
    "confirmEmailChange with a wrong password");
  expectEq(await newClient().collection("users").confirmEmailChange(token, PASSWORD), true, "confirmEmailChange");
  const auth = await newClient().collection("users").authWithPassword(moved, PASSWORD);
  expectEq(auth.record.email, moved, "record.email after the change");
  await expectError(() => newClient().collection("users").authWithPassword(email, PASSWORD), 400, "the old address");
});

await check("requestOTP + authWithOTP: code mailed by SMTP signs in once", async () => {
  const email = `pb-otp-${RUN}@example.com`;
  await newClient().collection("users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  const client = newClient();
  const { otpId } = await client.collection("users").requestOTP(email);
  expect(typeof otpId === "string" && otpId, "requestOTP returned no otpId");
  const text = await mailTo(email);
  const code = text.split("Your code:")[1]?.trim().split(/\s+/)[0];
  expect(/^\d{6}$/.test(code ?? ""), `no code in the mail: ${text.slice(0, 300)}`);
  const auth = await client.collection("users").authWithOTP(otpId, code);
  expectEq(auth.record.email, email, "record.email");
  expect(client.authStore.isValid, "authStore not valid after authWithOTP");
  await expectError(() => newClient().collection("users").authWithOTP(otpId, code), 400, "the code a second time");
});

// `mfa_users` has PocketBase's MFA on (clients/run.sh applies it with
// `authgraph apply`); `users` above is left as it was.
await check("MFA (mfa_users): authWithPassword throws with mfaId, requestOTP + authWithOTP(…, {mfaId}) signs in", async () => {
  const email = `pb-mfa-${RUN}@example.com`;
  const mfaUsers = (c) => c.collection("mfa_users");
  const methods = await mfaUsers(newClient()).listAuthMethods();
  expectEq(methods.mfa?.enabled, true, "auth-methods mfa.enabled");
  await mfaUsers(newClient()).create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  const client = newClient();
  const err = await expectError(() => mfaUsers(client).authWithPassword(email, PASSWORD), 401, "the password alone");
  const mfaId = err.response?.mfaId;
  expect(typeof mfaId === "string" && mfaId, `no mfaId in the error response: ${JSON.stringify(err.response)}`);
  expect(!client.authStore.isValid, "authStore valid after the first method alone");
  const { otpId } = await mfaUsers(client).requestOTP(email);
  expect(typeof otpId === "string" && otpId, "requestOTP returned no otpId");
  const text = await mailTo(email);
  const code = text.split("Your code:")[1]?.trim().split(/\s+/)[0];
  expect(/^\d{6}$/.test(code ?? ""), `no code in the mail: ${text.slice(0, 300)}`);
  // A wrong OTP is refused and gives no token.
  const second = await expectError(() => mfaUsers(newClient()).authWithOTP(otpId, code === "000000" ? "111111" : "000000"), [400, 401], "a wrong OTP");
  expect(!second.response?.token, "a token for a wrong OTP");
  const auth = await mfaUsers(client).authWithOTP(otpId, code, { mfaId });
  expectEq(auth.record.email, email, "record.email");
  expectEq(auth.record.collectionName, "mfa_users", "record.collectionName");
  expect(client.authStore.isValid, "authStore not valid after authWithOTP with the mfaId");
  const again = await mfaUsers(client).authRefresh();
  expectEq(again.record.email, email, "authRefresh with the MFA token");
});

// `file_users` declares an `avatar` (thumbs 50x0) and a protected `secret`
// file field (clients/run.sh applies it with `authgraph apply`).
function crc32(buf) {
  let c, crc = 0xffffffff;
  for (const b of buf) {
    c = (crc ^ b) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A `w`x`h` RGB PNG, encoded here so the suite needs no image library. */
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set([x % 256, y % 256, 128], y * (w * 3 + 1) + 1 + x * 3);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** Width and height from a PNG's IHDR. */
function pngSize(buf) {
  expect(buf.subarray(1, 4).toString("ascii") === "PNG", `not a PNG: ${buf.subarray(0, 8).toString("hex")}`);
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

async function download(url) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get("content-type"), body: Buffer.from(await res.arrayBuffer()) };
}

const PDF = Buffer.from("%PDF-1.4\n%secret\n%%EOF\n");

await check("files (file_users): create with a File, update with a Blob, getURL serves the bytes", async () => {
  const email = `pb-files-${RUN}@example.com`;
  const c = newClient();
  const source = png(200, 100);
  const rec = await c.collection("file_users").create({
    email, password: PASSWORD, passwordConfirm: PASSWORD, name: "Filer",
    avatar: new File([source], "pic.png", { type: "image/png" }),
  });
  expect(typeof rec.avatar === "string" && rec.avatar.endsWith(".png"), `record.avatar: ${JSON.stringify(rec.avatar)}`);
  expectEq(rec.name, "Filer", "record.name");
  const got = await download(c.files.getURL(rec, rec.avatar));
  expectEq([got.status, got.type], [200, "image/png"], "GET getURL(record, avatar)");
  expect(got.body.equals(source), "the served bytes differ from the upload");
  await c.collection("file_users").authWithPassword(email, PASSWORD);
  const updated = await c.collection("file_users").update(rec.id, { secret: new Blob([PDF], { type: "application/pdf" }) });
  expect(typeof updated.secret === "string" && updated.secret.endsWith(".pdf"), `record.secret: ${JSON.stringify(updated.secret)}`);
  expectEq(updated.avatar, rec.avatar, "avatar kept by the update");
  S.fileClient = c;
  S.fileRecord = updated;
  S.fileSource = source;
});

await check("files: getURL(record, name, {thumb}) serves 100x100 and declared sizes, the original otherwise", async () => {
  const c = S.fileClient;
  const rec = S.fileRecord;
  const thumb = await download(c.files.getURL(rec, rec.avatar, { thumb: "100x100" }));
  expectEq([thumb.status, thumb.type], [200, "image/png"], "GET the 100x100 thumb");
  expectEq(pngSize(thumb.body), [100, 100], "100x100 thumb dimensions");
  const scaled = await download(c.files.getURL(rec, rec.avatar, { thumb: "50x0" }));
  expectEq(pngSize(scaled.body), [50, 25], "declared 50x0 thumb dimensions");
  const other = await download(c.files.getURL(rec, rec.avatar, { thumb: "30x30" }));
  expectEq(pngSize(other.body), [200, 100], "an undeclared size serves the original");
  expect(other.body.equals(S.fileSource), "the original's bytes");
});

await check("files: a protected file needs pb.files.getToken()", async () => {
  const c = S.fileClient;
  const rec = S.fileRecord;
  const bare = await download(c.files.getURL(rec, rec.secret));
  expect([401, 403, 404].includes(bare.status), `protected file without a token: ${bare.status}`);
  const token = await c.files.getToken();
  expect(typeof token === "string" && token.length > 20, `getToken(): ${JSON.stringify(token)}`);
  const got = await download(c.files.getURL(rec, rec.secret, { token }));
  expectEq([got.status, got.type], [200, "application/pdf"], "GET with the file token");
  expect(got.body.equals(PDF), "the protected file's bytes");
  // Someone else's token does not open it.
  const stranger = newClient();
  const email = `pb-files-other-${RUN}@example.com`;
  await stranger.collection("file_users").create({ email, password: PASSWORD, passwordConfirm: PASSWORD });
  await stranger.collection("file_users").authWithPassword(email, PASSWORD);
  const theirs = await stranger.files.getToken();
  const denied = await download(c.files.getURL(rec, rec.secret, { token: theirs }));
  expect([401, 403, 404].includes(denied.status), `another user's file token: ${denied.status}`);
});

await check("delete(own id): succeeds, authStore cleared, record gone", async () => {
  const ok = await users().delete(S.id);
  expectEq(ok, true, "delete result");
  expect(!pb.authStore.isValid, "authStore not cleared after deleting the own record");
  await expectError(() => su.collection("users").getOne(S.id), 404, "superuser getOne of the deleted record");
  await expectError(() => newClient().collection("users").authWithPassword(EMAIL, NEW_PASSWORD), 400, "login of the deleted user");
});

summary();
