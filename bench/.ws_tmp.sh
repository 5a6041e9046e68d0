#!/usr/bin/env bash
# Subscription fan-out benchmark: N (default 10000) WebSocket subscribers of
# `usersChanged` (secret key) on loopback; bounded in time.
#   bash bench/ws.sh [N]                     one release server on SQLite
#   bash bench/ws.sh --postgres URL [N]      two release servers on one Postgres
#                                            database (created fresh under URL's
#                                            server); subscribers spread over
#                                            both, updates through the second
set -euo pipefail
cd "$(dirname "$0")/.."
PG=""
if [[ "${1:-}" == "--postgres" ]]; then PG="$2"; shift 2; fi
N="${1:-10000}"
true
ulimit -n "$(ulimit -Hn)"
TMP="$(mktemp -d)"
cleanup() {
  for f in "$TMP"/*.pid; do [[ -e "$f" ]] && kill "$(cat "$f")" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$PG" ]]; then psql "$PG" -qc "drop database if exists ag_bench_ws" >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

start() { # name, extra env...
  local name="$1"; shift
  mkdir -p "$TMP/$name"
  env AUTHGRAPH_DATA_DIR="$TMP/$name" AUTHGRAPH_ADDR=127.0.0.1:0 \
    AUTHGRAPH_MAX_WS_CONNECTIONS=$((N + 100)) RUST_LOG=warn "$@" \
    ${WRAP:-} target/release/authgraph serve > "$TMP/$name.out" 2> "$TMP/$name.err" &
  echo $! > "$TMP/$name.pid"
  for _ in $(seq 1 100); do grep -q "listening on" "$TMP/$name.out" && break; sleep 0.1; done
  sed -n 's/^authgraph listening on //p' "$TMP/$name.out"
}

if [[ -z "$PG" ]]; then
  A="$(start a)"; B="$A"
  KEYS="$TMP/a.out"; PID_LIST="$(cat "$TMP/a.pid")"
  echo "One server on SQLite, $N subscribers." >&2
else
  DB="ag_bench_ws"
  psql "$PG" -qc "drop database if exists $DB" >/dev/null
  psql "$PG" -qc "create database $DB" >/dev/null
  URL="${PG%/*}/$DB"
  SECRET="bench-ws-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  A="$(start a DATABASE_URL="$URL" AUTHGRAPH_JWT_SECRET="$SECRET")"
  B="$(start b DATABASE_URL="$URL" AUTHGRAPH_JWT_SECRET="$SECRET")"
  KEYS="$TMP/a.out"; PID_LIST="$(cat "$TMP/a.pid"),$(cat "$TMP/b.pid")"
  echo "Two servers on one Postgres database, $N subscribers spread over both, updates through the second." >&2
fi
PK="$(sed -n 's/^ *publishable key: *//p' "$KEYS")"
SK="$(sed -n 's/^ *secret key: *//p' "$KEYS")"
TOKEN="$(curl -s "$B/graphql" -H "x-api-key: $PK" -H 'content-type: application/json' \
  -d '{"query":"mutation { signUp(input: {email: \"ws@bench.io\", password: \"bench password 1\"}) { token } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["token"])')"
WS="${A/http/ws}/graphql/ws"
if [[ "$B" != "$A" ]]; then WS="$WS,${B/http/ws}/graphql/ws"; fi
echo "| metric | value |"
echo "|---|---|"
timeout 300 target/release/examples/ws_bench "$N" "$WS" "$B" "$SK" "$TOKEN" "$PID_LIST"
