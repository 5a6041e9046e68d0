// The real `graphql-ws` client (graphql-transport-ws protocol) against
// authgraph's subscriptions: userChanged for a user token, usersChanged(where)
// for the secret key, and a publishable key refused; and a multipart upload
// (the GraphQL multipart request spec) as browser clients send it.
import { randomUUID } from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { check, expect, gql, summary } from "../suite.mjs";

const BASE_URL = process.env.BASE_URL;
const WS_URL = BASE_URL.replace(/^http/, "ws") + "/graphql/ws";

function client(connectionParams) {
  return createClient({ url: WS_URL, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

// Subscribes and resolves with the first `count` results (or rejects on error/timeout).
function firstResults(c, query, variables, count, timeoutMs = 8000) {
  const results = [];
  let dispose;
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${results.length} results`)), timeoutMs);
    dispose = c.subscribe(
      { query, variables },
      {
        next: (r) => {
          if (r.errors) {
            clearTimeout(timer);
            reject(new Error(JSON.stringify(r.errors)));
            return;
          }
          results.push(r.data);
          if (results.length >= count) {
            clearTimeout(timer);
            resolve(results);
          }
        },
        error: (e) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
        },
        complete: () => {},
      },
    );
  });
  return { done, dispose: () => dispose() };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const email = `ws-${randomUUID()}@example.com`;
const signUp = await gql(
  "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }",
  { i: { email, password: "graphql-ws password 1" } },
  { "x-api-key": process.env.PK },
);
const token = signUp.signUp.token;
const id = signUp.signUp.user.id;

await check("userChanged: the user's own update arrives through graphql-ws", async () => {
  const c = client({ authorization: `Bearer ${token}` });
  const sub = firstResults(c, "subscription { userChanged { id data } }", {}, 1);
  await sleep(400);
  await gql("mutation { updateMe(input: {data: {city: \"Oslo\"}}) { id } }", {}, { authorization: `Bearer ${token}` });
  const [first] = await sub.done;
  expect(first.userChanged.id === id, "wrong user id");
  expect(first.userChanged.data.city === "Oslo", "data not delivered");
  sub.dispose();
  await c.dispose();
});

await check("usersChanged(where): the secret key sees only matching changes", async () => {
  const c = client({ "x-api-key": process.env.SK });
  const sub = firstResults(
    c,
    "subscription($w: UserWhere) { usersChanged(where: $w) { kind changedFields user { id data } } }",
    { w: { field: "city", value: "Bergen" } },
    1,
  );
  await sleep(400);
  const auth = { authorization: `Bearer ${token}` };
  await gql("mutation { updateMe(input: {data: {city: \"Paris\"}}) { id } }", {}, auth);
  await gql("mutation { updateMe(input: {data: {city: \"Bergen\"}}) { id } }", {}, auth);
  const [first] = await sub.done;
  expect(first.usersChanged.kind === "UPDATED", `kind ${first.usersChanged.kind}`);
  expect(first.usersChanged.user.data.city === "Bergen", "a non-matching change arrived first");
  sub.dispose();
  await c.dispose();
});

await check("usersChanged with a publishable key is refused", async () => {
  const c = client({ "x-api-key": process.env.PK });
  const sub = firstResults(c, "subscription { usersChanged { kind } }", {}, 1, 4000);
  let refused = false;
  try {
    await sub.done;
  } catch (e) {
    refused = /FORBIDDEN/.test(e.message);
  }
  expect(refused, "a publishable key could watch every user");
  await c.dispose();
});

await check("a forged token is refused at connection_init", async () => {
  const c = client({ authorization: "Bearer forged.token.value" });
  const sub = firstResults(c, "subscription { userChanged { id } }", {}, 1, 4000);
  let refused = false;
  try {
    await sub.done;
  } catch {
    refused = true;
  }
  expect(refused, "a forged token was accepted");
  await c.dispose();
});

// A 1x1 PNG.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000101ff89993d1d0000000049454e44ae426082",
  "hex",
);

await check("a GraphQL multipart upload (FormData, the multipart request spec) is stored and served", async () => {
  // As apollo-upload-client and urql send it: operations, map, then the file.
  const query = "mutation($i: UpdateMeInput!) { updateMe(input: $i) { data files { field name url size contentType } } }";
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { i: { files: [{ field: "avatar", file: null }] } } }));
  form.append("map", JSON.stringify({ 0: ["variables.i.files.0.file"] }));
  form.append("0", new Blob([PNG], { type: "image/png" }), "me.png");
  const res = await fetch(`${BASE_URL}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = await res.json();
  expect(res.status === 200 && !body.errors, `${res.status} ${JSON.stringify(body)}`);
  const [file] = body.data.updateMe.files;
  expect(file && file.field === "avatar" && file.size === PNG.length, JSON.stringify(body.data));
  expect(file.contentType === "image/png", file.contentType);
  expect(body.data.updateMe.data.avatar === file.name, "the profile does not name the file");
  const got = await fetch(new URL(file.url, BASE_URL));
  const bytes = Buffer.from(await got.arrayBuffer());
  expect(got.status === 200 && bytes.equals(PNG), `download: ${got.status}, ${bytes.length} bytes`);
});


summary();
