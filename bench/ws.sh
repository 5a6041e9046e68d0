#!/usr/bin/env bash
# Subscription fan-out benchmark: N (default 10000) WebSocket subscribers of
# `usersChanged` on one release server (SQLite, loopback); bounded in time.
#   bash bench/ws.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
cargo build --release --bin authgraph --example ws_bench
ulimit -n "$(ulimit -Hn)"
TMP="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
AUTHGRAPH_DATA_DIR="$TMP" AUTHGRAPH_ADDR=127.0.0.1:0 AUTHGRAPH_MAX_WS_CONNECTIONS=$((N + 100)) RUST_LOG=warn \
  target/release/authgraph serve > "$TMP/out" 2> "$TMP/err" &
PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$TMP/out" && break; sleep 0.1; done
BASE="$(sed -n 's/^authgraph listening on //p' "$TMP/out")"
PK="$(sed -n 's/^ *publishable key: *//p' "$TMP/out")"
SK="$(sed -n 's/^ *secret key: *//p' "$TMP/out")"
TOKEN="$(curl -s "$BASE/graphql" -H "x-api-key: $PK" -H 'content-type: application/json' \
  -d '{"query":"mutation { signUp(input: {email: \"ws@bench.io\", password: \"bench password 1\"}) { token } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["signUp"]["token"])')"
echo "| metric | value |"
echo "|---|---|"
timeout 300 target/release/examples/ws_bench "$N" "${BASE/http/ws}/graphql/ws" "$BASE" "$SK" "$TOKEN" "$PID"
