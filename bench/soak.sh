#!/usr/bin/env bash
# Soak: the release server under 1,000 concurrent connections of mixed traffic
# (reads, updates, refreshes, log-ins, sign-ups, list queries) with 200
# graphql-ws subscribers, for 5 minutes, on SQLite and on PostgreSQL
# (bench/soak.mjs is the load generator). Writes
# bench/results/soak-<db>-<time>.json and prints a summary.
#
#   bash bench/soak.sh                        # SQLite, then PostgreSQL
#   bash bench/soak.sh sqlite                 # one of them
#   SOAK_SECONDS=60 SOAK_USERS=200 bash bench/soak.sh sqlite
#
# Environment: SOAK_SECONDS (300), SOAK_USERS (1000), SOAK_SUBSCRIBERS (200),
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
  local out="bench/results/soak-$db-$(date -u +%Y%m%dT%H%M%SZ).json"
  echo "== soak on $db: $USERS connections, $SUBS subscribers, ${SECONDS_RUN} s against $BASE (pid $SERVER_PID)"
  node bench/soak.mjs --base "$BASE" --pk "$PK" --sk "$SK" --pid "$SERVER_PID" \
    --users "$USERS" --subscribers "$SUBS" --seconds "$SECONDS_RUN" --out "$out" >/dev/null
  stop_server
  if [[ -n "${DROP_DB:-}" ]]; then psql "$PG_ADMIN" -qc "drop database if exists $DROP_DB" >/dev/null; DROP_DB=""; fi
  python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{'kind':8} {'count':>8} {'/s':>6} {'5xx':>5} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
for k, v in r["kinds"].items():
    print(f"{k:8} {v['count']:>8} {v['per_sec']:>6} {v['s5xx']:>5} {v['errors']:>6} {v['p50_ms']:>7} {v['p99_ms']:>7} {v['max_ms']:>7}")
s = r["server"]
print(f"5xx {r['s5xx']}, errors {r['errors']}, events {r['events']}, "
      f"sign-ups acknowledged {r['acknowledged_signups']}, missing {r['missing_signups']}")
print(f"RSS MiB {s['start']['rss_mib']} -> {s['end']['rss_mib']} (max {s['max']['rss_mib']}), "
      f"fds {s['start']['fds']} -> {s['end']['fds']} (max {s['max']['fds']}), "
      f"generator CPU {r['generator_cpu_percent_of_one_core']}% of a core")
print(f"written to {sys.argv[1]}")
PY
}

DROP_DB=""
trap 'stop_server; if [[ -n "$DROP_DB" ]]; then psql "$PG_ADMIN" -qc "drop database if exists $DROP_DB" >/dev/null 2>&1 || true; fi' EXIT
for db in ${1:-sqlite postgres}; do run "$db"; done
