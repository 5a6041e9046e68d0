#!/usr/bin/env bash
# Soak: the release server under 1,000 concurrent connections of mixed traffic
# (reads, updates, refreshes, log-ins, sign-ups, list queries) with 200
# graphql-ws subscribers, for 5 minutes, on SQLite and on PostgreSQL
# (bench/soak.mjs is the load generator, a client that waits and retries when
# refused with Retry-After, at most SOAK_TRIES attempts).
#
# Two profiles (SOAK_PROFILE):
#   sustained (default): each of the 1,000 users pauses between its requests
#     (exponential, mean SOAK_THINK_MS = 2000 ms) and sign-ups plus log-ins are
#     at most SOAK_HASH_RATE (12) a second together: a steady load the
#     machine can serve. Target: no 5xx at all, busy answers included.
#   overload: no pauses, hashes unpaced: 1,000 users offer more argon2id work
#     than two cores compute. Target: the excess is refused with Retry-After
#     (503/OVERLOADED) and nothing else fails or times out.
#
# Writes bench/results/soak-<db>-<profile>-<time>.json, prints a summary and
# PASS or FAIL for each target, and exits 1 when one failed:
#   - sustained: 0 5xx of any kind and 0 requests refused for good;
#     overload: 0 5xx other than refusals with Retry-After (the busy answer);
#   - 0 time-outs and 0 other errors (a request refused for good after its
#     last try is counted and shown, not a failure of the server);
#   - 0 acknowledged sign-ups missing afterwards;
#   - RSS at the end <= max(1.5 x RSS after warm-up, RSS after warm-up + 64 MiB),
#     warm-up being the first SOAK_WARMUP seconds of the run (60);
#   - open files at the end <= open files at the start + 256.
#
#   bash bench/soak.sh                        # SQLite, then PostgreSQL
#   bash bench/soak.sh sqlite                 # one of them
#   SOAK_SECONDS=60 SOAK_USERS=200 bash bench/soak.sh sqlite
#   SOAK_SECONDS=1800 bash bench/soak.sh sqlite   # the 30-minute run
#   SOAK_PROFILE=overload bash bench/soak.sh       # the stress test
#
# Environment: SOAK_SECONDS (300), SOAK_USERS (1000), SOAK_SUBSCRIBERS (200),
# SOAK_TRIES (6), SOAK_WARMUP (60), AUTHGRAPH_HASH_QUEUE_MAX (the server's default),
# SOAK_PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/test; a database
# ag_soak_<pid> is created there and dropped after), AUTHGRAPH_BIN (default
# $CARGO_TARGET_DIR or target, /release/authgraph, built when missing).
# Not in CI: it runs for minutes. Only loopback addresses are used.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${AUTHGRAPH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/authgraph}"
if [[ ! -x "$BIN" ]]; then cargo build --release --locked --bin authgraph; fi
SECONDS_RUN="${SOAK_SECONDS:-300}"
USERS="${SOAK_USERS:-1000}"
SUBS="${SOAK_SUBSCRIBERS:-200}"
TRIES="${SOAK_TRIES:-6}"
WARMUP="${SOAK_WARMUP:-60}"
PROFILE="${SOAK_PROFILE:-sustained}"
case "$PROFILE" in
  sustained) PACE=(--think "${SOAK_THINK_MS:-2000}" --hash-rate "${SOAK_HASH_RATE:-12}") ;;
  overload) PACE=(--think 0 --hash-rate 0) ;;
  *) echo "SOAK_PROFILE is sustained or overload" >&2; exit 2 ;;
esac
PG_ADMIN="${SOAK_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}"
[[ -d clients/graphqlws/node_modules ]] || (cd clients/graphqlws && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ulimit -n "$(ulimit -Hn)"
mkdir -p bench/results

source "$ROOT/bench/server.sh"

run() { # sqlite | postgres
  local db="$1" url=""
  if [[ "$db" == postgres ]]; then
    local name="ag_soak_$$"
    psql "$PG_ADMIN" -qc "create database $name" >/dev/null
    url="${PG_ADMIN%/*}/$name"
    DROP_DB="$name"
  fi
  start_server "$url"
  local out="bench/results/soak-$db-$PROFILE-$(date -u +%Y%m%dT%H%M%SZ).json"
  echo "== soak ($PROFILE: ${PACE[*]}) on $db: $USERS connections, $SUBS subscribers, ${SECONDS_RUN} s against $BASE (pid $SERVER_PID)"
  echo "load at start: $(uptime)"
  node bench/soak.mjs --base "$BASE" --pk "$PK" --sk "$SK" --pid "$SERVER_PID" \
    --users "$USERS" --subscribers "$SUBS" --seconds "$SECONDS_RUN" --tries "$TRIES" \
    --warmup "$WARMUP" "${PACE[@]}" --out "$out" >/dev/null
  echo "load at end:   $(uptime)"
  stop_server
  if [[ -n "${DROP_DB:-}" ]]; then psql "$PG_ADMIN" -qc "drop database if exists $DROP_DB" >/dev/null; DROP_DB=""; fi
  python3 - "$out" "$PROFILE" <<'PY' || FAILED=1
import json, sys
r = json.load(open(sys.argv[1]))
cols = ["count", "ok", "retried_ok", "refused", "timeouts", "s5xx_not_busy", "other_errors", "busy_answers", "p50_ms", "p99_ms", "max_ms"]
heads = ["count", "ok", "retry-ok", "refused", "timeout", "5xx", "other", "busy", "p50 ms", "p99 ms", "max ms"]
print(f"{'kind':8} " + " ".join(f"{h:>8}" for h in heads))
for k, v in r["kinds"].items():
    print(f"{k:8} " + " ".join(f"{v.get(c, 0):>8}" for c in cols))
s = r["server"]
su = r["setup_signups"]
print(f"set-up: {r['users']} sign-ups in {r['setup_seconds']} s, {su.get('busy_answers', 0)} busy answers, "
      f"{su.get('retried_ok', 0)} OK after a retry; refusals by code: "
      + ", ".join(f"{k} {v.get('refusal_codes')}" for k, v in r["kinds"].items() if v.get("refusal_codes")))
print(f"events {r['events']}, sign-ups acknowledged {r['acknowledged_signups']}, missing {r['missing_signups']}, "
      f"generator CPU {r['generator_cpu_percent_of_one_core']}% of a core")
print("RSS MiB every 10 s: " + " ".join(str(p["rss_mib"]) for p in s["series"]))
warm = s["warm"]["rss_mib"]
rss_bound = max(1.5 * warm, warm + 64)
fd_bound = s["start"]["fds"] + 256
sustained = sys.argv[2] == "sustained"
print(f"offered: {r['requests']} requests in {r['seconds']} s = {r['requests'] / max(r['seconds'], 1):.0f} a second "
      f"(think {r.get('think_ms', 0)} ms, hashes at most {r.get('hash_rate', 0)} a second)")
checks = [
    ("every 5xx = 0, busy answers included" if sustained else "5xx other than the busy answer = 0",
     (r["s5xx"] if sustained else r["s5xx_not_busy"]) == 0,
     f"{r['s5xx']} 5xx, {r['s5xx_not_busy']} of them not busy answers"),
]
if sustained:
    checks.append(("requests refused for good = 0", r["refused"] == 0, r["refused"]))
checks += [
    ("time-outs and other errors = 0", r["timeouts"] + r["other_errors"] == 0,
     f"{r['timeouts']} time-outs, {r['other_errors']} other"),
    ("acknowledged sign-ups missing = 0", r["missing_signups"] == 0, r["missing_signups"]),
    (f"RSS at the end <= max(1.5 x {warm}, {warm} + 64) = {rss_bound:.0f} MiB", s["end"]["rss_mib"] <= rss_bound,
     f"start {s['start']['rss_mib']}, after {s['warm']['at_s']} s {warm}, end {s['end']['rss_mib']}, max {s['max']['rss_mib']} MiB"),
    (f"open files at the end <= {s['start']['fds']} + 256", s["end"]["fds"] <= fd_bound,
     f"start {s['start']['fds']}, end {s['end']['fds']}, max {s['max']['fds']}"),
]
for name, ok, got in checks:
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {got}")
print(f"(refused for good after {r['tries']} tries: {r['refused']}; OK after a retry: {r['retried_ok']})")
print(f"written to {sys.argv[1]}")
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
PY
}

DROP_DB=""
FAILED=0
trap 'stop_server; if [[ -n "$DROP_DB" ]]; then psql "$PG_ADMIN" -qc "drop database if exists $DROP_DB" >/dev/null 2>&1 || true; fi' EXIT
for db in ${1:-sqlite postgres}; do run "$db"; done
exit "$FAILED"
