// Load generator of bench/soak.sh and bench/faults.sh: N virtual users, each
// on its own keep-alive connection (Node's fetch opens one per request in
// flight), loop over a mix of GraphQL and REST requests for a bounded time,
// while S graphql-ws subscribers each watch one of those users' profile.
//
//   node bench/soak.mjs --base URL --pk PK --sk SK --pid SERVER_PID \
//     [--users 1000] [--subscribers 200] [--seconds 300] [--out result.json]
//     [--mix read=35,update=20,list=15,refresh=15,signup=8,login=7]
//     [--timeline 1]   (faults: one line a second of successes, failures, events)
//     [--ws-base URL]  (subscribers on another instance)
//     [--pad N]        (updates carry up to N characters more)
//     [--hash-rate N]  (sign-ups and log-ins a second together; default 0: unpaced)
//     [--think MS]     (each user pauses a random time of mean MS between its
//                       requests, as people do; default 0: unpaced, a stress test)
//     [--tries N]      (attempts of a request refused with Retry-After; default 1)
//     [--warmup S]     (seconds into the run of the RSS sample the bound is taken from)
//
// A client like a real one (--tries above 1): a request refused with a
// pause to retry after (HTTP 503 or 429 with `Retry-After`, or a GraphQL
// error whose `extensions` carry `retryAfter`: OVERLOADED, RATE_LIMITED,
// UNAVAILABLE) waits that long, doubled at each refusal with jitter, and
// tries again, at most N times in all.
//
// Prints one JSON report: per request kind the count and how each ended
// (answered OK at once, OK after refusals, refused for good, timed out, 5xx
// that are not a refusal with Retry-After, other errors), the refusals
// received by code, and latency percentiles of the whole request as its
// user waits for it, retries included; the server's RSS and open file
// descriptors at start and end, their maxima and a sample every 10 s; the
// subscription events received; and whether every acknowledged sign-up is in
// the database afterwards. The generator's own CPU use is reported too, so a
// saturated generator shows.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(new URL("../clients/graphqlws/package.json", import.meta.url));
const { createClient } = require("graphql-ws");
const WebSocket = require("ws");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const BASE = args.base;
const PK = args.pk;
const SK = args.sk;
const PID = args.pid;
const USERS = Number(args.users ?? 1000);
const SUBSCRIBERS = Number(args.subscribers ?? 200);
const SECONDS = Number(args.seconds ?? 300);
const TIMEOUT_MS = Number(args.timeout ?? 30000);
const TRIES = Math.max(1, Number(args.tries ?? 1));
const MIX = Object.fromEntries(
  (args.mix ?? "read=35,update=20,list=15,refresh=15,signup=8,login=7").split(",").map((kv) => {
    const [k, v] = kv.split("=");
    return [k, Number(v)];
  }),
);
// Updates carry up to PAD characters more (faults: rows that need new pages).
const PAD = Number(args.pad ?? 0);
const PASSWORD = "soak passphrase 42";
const RUN = Date.now().toString(36);

// ------------------------------------------------------------------ metrics
const fresh = () => ({
  count: 0,
  ok: 0,
  retried_ok: 0,
  refused: 0,
  timeouts: 0,
  s5xx: 0,
  s5xx_not_busy: 0,
  other_errors: 0,
  errors: 0,
  busy_answers: 0,
  refusal_codes: {},
  ms: [],
  samples: [],
});
const stats = {};
const stat = (kind) => (stats[kind] ??= fresh());
let second = { ok: 0, failed: 0, refusals: 0, events: 0, statuses: {} };
const timeline = [];

// How a request ended: "ok", "refused" (still refused at its last try),
// "timeout", "s5xx" (a 5xx that is not a refusal with Retry-After) or
// "error" (a transport error, a wrong answer, another error).
function record(kind, ms, status, outcome, refusals, detail) {
  const s = stat(kind);
  s.count++;
  s.ms.push(ms);
  const ok = outcome === "ok";
  if (ok && refusals > 0) s.retried_ok++;
  else if (ok) s.ok++;
  else if (outcome === "refused") s.refused++;
  else if (outcome === "timeout") s.timeouts++;
  else if (outcome === "s5xx") s.s5xx_not_busy++;
  else s.other_errors++;
  if (!ok) {
    s.errors++;
    if (s.samples.length < 5) s.samples.push(detail);
  }
  if (ok) second.ok++;
  else second.failed++;
  second.statuses[status] = (second.statuses[status] ?? 0) + 1;
}

// An answer asking to be retried later: its pause in seconds, else null.
function retryAfter(res, json) {
  if ([429, 503].includes(res.status) && res.headers.get("retry-after")) {
    return { secs: Number(res.headers.get("retry-after")) || 1, code: `http_${res.status}` };
  }
  const ext = res.status === 200 && json?.errors?.[0]?.extensions;
  if (ext && ext.retryAfter != null) return { secs: Number(ext.retryAfter) || 1, code: ext.code };
  return null;
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function proc() {
  if (!PID) return null;
  const status = readFileSync(`/proc/${PID}/status`, "utf8");
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return { rss_mib: Math.round(rss / 102.4) / 10, fds: readdirSync(`/proc/${PID}/fd`).length };
}

// ----------------------------------------------------------------- requests
// One request as its user sees it: tried again after each refusal with
// Retry-After (up to TRIES attempts), timed from the first attempt.
async function call(kind, path, { key, token, body, method = "POST" }, check) {
  const headers = { "content-type": "application/json" };
  if (key) headers["x-api-key"] = key;
  if (token) headers.authorization = `Bearer ${token}`;
  const s = stat(kind);
  const t0 = performance.now();
  for (let attempt = 1; ; attempt++) {
    let status = 0;
    try {
      const res = await fetch(BASE + path, {
        method,
        headers,
        body: body && JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      status = res.status;
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      if (status >= 500) s.s5xx++;
      const busy = retryAfter(res, json);
      if (busy) {
        s.busy_answers++;
        second.refusals++;
        s.refusal_codes[busy.code] = (s.refusal_codes[busy.code] ?? 0) + 1;
        if (attempt < TRIES) {
          // Doubled at each refusal, with jitter so refused clients spread out.
          await sleep(busy.secs * 1000 * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
          continue;
        }
      }
      const problem = status >= 400 || busy ? `${status} ${text.slice(0, 160)}` : check(json);
      const outcome = !problem ? "ok" : busy ? "refused" : status >= 500 ? "s5xx" : "error";
      record(kind, performance.now() - t0, status, outcome, attempt - 1, problem);
      return problem ? null : json;
    } catch (e) {
      const outcome = e.name === "TimeoutError" ? "timeout" : "error";
      record(kind, performance.now() - t0, status, outcome, attempt - 1, `${e.name}: ${e.message}`);
      return null;
    }
  }
}

const gql = (kind, query, variables, auth, pick) =>
  call(kind, "/graphql", { ...auth, body: { query, variables } }, (j) =>
    !j ? "not JSON" : j.errors ? JSON.stringify(j.errors).slice(0, 160) : pick(j.data) === undefined ? "no data" : null,
  ).then((j) => (j ? pick(j.data) : null));

const acknowledged = [];

async function signUp(email) {
  const r = await gql(
    "signup",
    "mutation($i: SignUpInput!) { signUp(input: $i) { token refreshToken user { id } } }",
    { i: { email, password: PASSWORD, data: { run: RUN } } },
    { key: PK },
    (d) => d?.signUp,
  );
  if (r) acknowledged.push(email);
  return r;
}

// The same through urBackend's REST door (its refusals are HTTP 503s).
async function signUpRest(email) {
  const r = await call(
    "signup",
    "/api/userAuth/signup",
    { key: PK, body: { email, password: PASSWORD } },
    (j) => (j?.token ? null : JSON.stringify(j).slice(0, 160)),
  );
  if (r) acknowledged.push(email);
  return r;
}

const ops = {
  async read(u) {
    if (Math.random() < 0.5) {
      await gql("read", "{ me { id email data updatedAt } }", {}, { token: u.token }, (d) => d?.me?.id);
    } else {
      await call("read", "/api/userAuth/me", { method: "GET", key: PK, token: u.token }, (j) =>
        j?._id ? null : JSON.stringify(j).slice(0, 160),
      );
    }
  },
  async update(u) {
    u.n = (u.n ?? 0) + 1;
    await gql(
      "update",
      "mutation($i: UpdateMeInput!) { updateMe(input: $i) { id } }",
      { i: { data: { n: u.n, city: ["Oslo", "Lima", "Pune"][u.n % 3], ...(PAD && { pad: "x".repeat(Math.floor(Math.random() * PAD)) }) } } },
      { token: u.token },
      (d) => d?.updateMe?.id,
    );
  },
  async list() {
    await gql(
      "list",
      `{ users(where: {field: "city", value: "Oslo"}, orderBy: [{field: "createdAt", direction: DESC}], first: 20) { edges { node { id email } } pageInfo { hasNextPage } } }`,
      {},
      { key: SK },
      (d) => d?.users?.edges,
    );
  },
  async refresh(u) {
    const r = await gql(
      "refresh",
      "mutation($r: String!) { refreshToken(refreshToken: $r) { token refreshToken } }",
      { r: u.refresh },
      {},
      (d) => d?.refreshToken,
    );
    if (r) Object.assign(u, { token: r.token, refresh: r.refreshToken });
  },
  async signup() {
    const email = `soak-${RUN}-${Math.random().toString(36).slice(2)}@example.com`;
    await (Math.random() < 0.5 ? signUp(email) : signUpRest(email));
  },
  async login(u) {
    if (Math.random() < 0.5) {
      await gql(
        "login",
        "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
        { i: { email: u.email, password: PASSWORD } },
        { key: PK },
        (d) => d?.logIn?.token,
      );
    } else {
      await call(
        "login",
        "/api/userAuth/login",
        { key: PK, body: { email: u.email, password: PASSWORD } },
        (j) => (j?.token ? null : JSON.stringify(j).slice(0, 160)),
      );
    }
  },
};
const weights = Object.entries(MIX).filter(([k, w]) => ops[k] && w > 0);
const total = weights.reduce((s, [, w]) => s + w, 0);
// Sign-ups and log-ins (argon2id) may be paced: at most HASH_RATE a second
// together (0: unpaced, the default). Unpaced they keep their weights: the
// server's bounded hashing queue refuses the excess with Retry-After, and
// the clients wait and retry. With a rate, a user whose pick finds no token
// left this second reads instead.
const HASH_RATE = Number(args["hash-rate"] ?? 0);
// A token bucket refilled a tenth of the rate every 100 ms, holding at most a
// second's worth: sign-ups and log-ins come spread over the second, not all
// at its start.
let hashTokens = HASH_RATE;
if (HASH_RATE > 0) setInterval(() => (hashTokens = Math.min(HASH_RATE, hashTokens + HASH_RATE / 10)), 100).unref();
function pick() {
  let r = Math.random() * total;
  let kind = weights[0][0];
  for (const [k, w] of weights) {
    if ((r -= w) < 0) {
      kind = k;
      break;
    }
  }
  if (HASH_RATE > 0 && (kind === "signup" || kind === "login")) {
    if (hashTokens <= 0) return "read";
    hashTokens--;
  }
  return kind;
}

// -------------------------------------------------------------------- setup
async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const users = [];
const setupStarted = performance.now();
await pool(USERS, 8, async (i) => {
  const email = `vu-${RUN}-${i}@example.com`;
  for (let attempt = 0; attempt < 20; attempt++) {
    const r = await signUp(email);
    if (r) return void (users[i] = { email, token: r.token, refresh: r.refreshToken });
    if (acknowledged.includes(email)) break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  throw new Error(`could not sign up ${email}`);
});
const setupSeconds = (performance.now() - setupStarted) / 1000;
const setupStats = JSON.parse(JSON.stringify(stats.signup ?? fresh(), (k, v) => (k === "ms" ? undefined : v)));
for (const s of Object.values(stats)) Object.assign(s, fresh());

// Subscribers: user i's own profile changes, on graphql-ws.
let events = 0;
let subscribeErrors = 0;
// `--ws-base` puts them on another instance of the same database: their
// events then arrive through PostgreSQL's LISTEN/NOTIFY.
const wsUrl = (args["ws-base"] ?? BASE).replace(/^http/, "ws") + "/graphql/ws";
const subscribers = users.slice(0, SUBSCRIBERS).map((u) => {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${u.token}` }),
    retryAttempts: 1000,
    shouldRetry: () => true,
    retryWait: () => new Promise((ok) => setTimeout(ok, 500)),
    lazy: false,
  });
  client.subscribe(
    { query: "subscription { userChanged { id updatedAt } }" },
    {
      next: () => {
        events++;
        second.events++;
      },
      error: () => subscribeErrors++,
      complete: () => {},
    },
  );
  return client;
});
await new Promise((ok) => setTimeout(ok, 3000));

// ---------------------------------------------------------------------- run
const start = proc();
const maxima = { ...start };
// The server's RSS and open files every 10 s, to tell a plateau from growth.
const series = start ? [{ t: 0, ...start }] : [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const deadline = Date.now() + SECONDS * 1000;
let tick = 0;
const ticker = setInterval(() => {
  tick++;
  const p = proc();
  if (p) for (const k of Object.keys(p)) maxima[k] = Math.max(maxima[k], p[k]);
  if (p && tick % 10 === 0) series.push({ t: tick, ...p });
  if (args.timeline) {
    timeline.push({ t: Math.round((performance.now() - t0) / 1000), at: Date.now(), ...second });
    process.stderr.write(`${JSON.stringify(timeline.at(-1))}\n`);
  }
  second = { ok: 0, failed: 0, refusals: 0, events: 0, statuses: {} };
}, 1000);
// With --think, a user's pause between requests is exponential with that
// mean (people act independently: arrivals are then close to Poisson), and
// the first request of each user is spread over one mean pause.
const THINK_MS = Number(args.think ?? 0);
const pause = () => (THINK_MS > 0 ? sleep(-Math.log(1 - Math.random()) * THINK_MS) : null);
await Promise.all(
  users.map(async (u) => {
    if (THINK_MS > 0) await sleep(Math.random() * THINK_MS);
    while (Date.now() < deadline) {
      await ops[pick()](u);
      await pause();
    }
  }),
);
clearInterval(ticker);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await new Promise((ok) => setTimeout(ok, 2000));
const end = proc();
for (const c of subscribers) await c.dispose();

// ------------------------------------------------------------------- verify
// Every e-mail whose sign-up was answered with a token, read back with the
// secret key, 100 at a time.
let missing = 0;
for (let i = 0; i < acknowledged.length; i += 100) {
  const chunk = acknowledged.slice(i, i + 100);
  let found = null;
  for (let attempt = 0; attempt < 10 && found === null; attempt++) {
    found = await gql(
      "verify",
      "query($w: UserWhere!) { users(where: $w, first: 100) { totalCount } }",
      { w: { field: "email", op: "IN", value: chunk } },
      { key: SK },
      (d) => d?.users?.totalCount,
    );
    if (found === null) await new Promise((ok) => setTimeout(ok, 1000));
  }
  missing += chunk.length - (found ?? 0);
}

const kinds = {};
for (const [kind, s] of Object.entries(stats)) {
  const sorted = s.ms.sort((a, b) => a - b);
  const { ms, samples, ...counts } = s;
  kinds[kind] = {
    ...counts,
    per_sec: Math.round(s.count / wall),
    p50_ms: Math.round(pct(sorted, 50)),
    p99_ms: Math.round(pct(sorted, 99)),
    max_ms: Math.round(sorted.at(-1) ?? 0),
    samples: s.samples,
  };
}
const sum = (field) => Object.values(kinds).reduce((s, k) => s + (k[field] ?? 0), 0);
// The RSS bound is taken from the sample at WARMUP seconds (caches, arenas
// and the hashing buffers are filled by then), or the last one before it.
const WARMUP = Number(args.warmup ?? 60);
const warm = series.filter((p) => p.t <= WARMUP).at(-1) ?? start;
const report = {
  users: USERS,
  subscribers: SUBSCRIBERS,
  seconds: Math.round(wall),
  tries: TRIES,
  think_ms: THINK_MS,
  hash_rate: HASH_RATE,
  setup_seconds: Math.round(setupSeconds),
  setup_signups: setupStats,
  kinds,
  requests: sum("count"),
  // Every 5xx answer (refusals included), and those that were not refusals with Retry-After.
  s5xx: sum("s5xx"),
  s5xx_not_busy: sum("s5xx_not_busy"),
  // Every request that did not succeed in the end, and how.
  errors: sum("errors"),
  refused: sum("refused"),
  timeouts: sum("timeouts"),
  other_errors: sum("other_errors"),
  retried_ok: sum("retried_ok"),
  busy_answers: sum("busy_answers"),
  events,
  subscribe_errors: subscribeErrors,
  server: { start, warm: { at_s: warm?.t ?? 0, ...warm }, end, max: maxima, series },
  acknowledged_signups: acknowledged.length,
  missing_signups: missing,
  generator_cpu_percent_of_one_core: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 100),
  timeline: args.timeline ? timeline : undefined,
};
const text = JSON.stringify(report, null, 1);
if (args.out) writeFileSync(args.out, text);
console.log(text);
process.exit(0);
