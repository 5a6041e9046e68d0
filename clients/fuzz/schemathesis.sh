#!/usr/bin/env bash
# Fuzzes a fresh authgraph server (SQLite in a temp dir) with schemathesis
# (PyPI, pinned below, in a venv of its own): /openapi.json's operations with
# the secret key and a user's token where the document declares security, then
# /graphql through its committed schema (schema.graphql). Fails on any 5xx and on any
# response the OpenAPI document does not describe (status, content type, body).
#
#   cargo build && bash clients/fuzz/schemathesis.sh
#
# Environment:
#   AUTHGRAPH_BIN              server binary (default: target/debug/authgraph)
#   AUTHGRAPH_FUZZ_VENV        schemathesis venv (default: /tmp/schemathesis-venv)
#   AUTHGRAPH_FUZZ_REST_SECS   time budget of the REST run (default: 100)
#   AUTHGRAPH_FUZZ_GRAPHQL_SECS  time budget of the GraphQL run (default: 60)
#   AUTHGRAPH_FUZZ_SEED        schemathesis seed (default: random, printed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/clients/fuzz"
BIN="${AUTHGRAPH_BIN:-target/debug/authgraph}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
[[ -x "$BIN" ]] || { echo "schemathesis.sh: no server binary at $BIN (cargo build first)" >&2; exit 2; }
VENV="${AUTHGRAPH_FUZZ_VENV:-/tmp/schemathesis-venv}"
ST_VERSION=4.32.5
REST_SECS="${AUTHGRAPH_FUZZ_REST_SECS:-100}"
GRAPHQL_SECS="${AUTHGRAPH_FUZZ_GRAPHQL_SECS:-60}"

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/authgraph-fuzz.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# Hermetic: its own data dir and port; the per-address limits raised, as the
# fuzzer signs up and logs in far more often than a person.
mkdir -p "$TMP/data"
: >"$TMP/server.out"  # before the background start, so the wait loop can read it
(cd "$TMP" && exec env -u DATABASE_URL -u AUTHGRAPH_DATABASE_URL -u AUTHGRAPH_CONFIG \
  AUTHGRAPH_DATA_DIR="$TMP/data" AUTHGRAPH_ADDR=127.0.0.1:0 \
  AUTHGRAPH_LOGIN_LIMIT_PER_IP=1000000 AUTHGRAPH_SIGNUP_LIMIT_PER_IP=1000000 \
  "$BIN" serve) >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
BASE=""
for _ in $(seq 1 300); do
  BASE="$(sed -n 's/^authgraph listening on \(http:\/\/[^[:space:]]*\).*$/\1/p' "$TMP/server.out" | head -n1)"
  [[ -n "$BASE" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$BASE" ]] || { echo "schemathesis.sh: the server did not start" >&2; cat "$TMP/server.err" >&2; exit 1; }
BASE="${BASE%/}"
PK="$(sed -n 's/^ *publishable key: *\([^[:space:]]*\).*$/\1/p' "$TMP/server.out")"
SK="$(sed -n 's/^ *secret key: *\([^[:space:]]*\).*$/\1/p' "$TMP/server.out")"

# A user with a username (urBackend's public profile), whose token is the
# bearer credential.
signup='{"query":"mutation { signUp(input: {email: \"fuzz@example.com\", password: \"correct horse battery\", data: {username: \"fuzz\", name: \"Fuzz\"}}) { token } }"}'
FUZZ_TOKEN="$(curl -sf "$BASE/graphql" -H "x-api-key: $PK" -H 'content-type: application/json' -d "$signup" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["signUp"]["token"])')"
export FUZZ_TOKEN FUZZ_API_KEY="$SK"
echo "== schemathesis $ST_VERSION against $BASE"

seed=()
[[ -n "${AUTHGRAPH_FUZZ_SEED:-}" ]] && seed=(--seed "$AUTHGRAPH_FUZZ_SEED")
export SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
# One worker: with two, schemathesis's threads run Hypothesis's lambda-source
# parsing (ast.parse) at the same time, and CPython 3.11's AST constructor is not
# thread-safe there ("AST constructor recursion depth mismatch", a Runtime Error
# of the tool that failed CI once; cpython#106905, hypothesis#4364).
# The generator's own health checks are off where they judge the generator,
# not the server: `filter_too_much` (seen in CI on the OAuth callback's
# constrained parameters, by seed) and `too_slow` (a loaded machine).
st() { "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$@" "${seed[@]}" --workers 1 \
  --request-timeout 10 --max-failures 20 --warnings off \
  --suppress-health-check filter_too_much,too_slow; }

# schemathesis keeps a cache in its working directory: the temp dir.
cd "$TMP"
rc=0
echo "== /openapi.json (${REST_SECS} s)"
st "$BASE/openapi.json" --max-time "$REST_SECS" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance ||
  rc=1
echo "== /graphql (${GRAPHQL_SECS} s)"
# The committed SDL: schemathesis's own introspection query nests `ofType`
# deeper than the server's depth limit (12) allows.
st "$ROOT/schema.graphql" --url "$BASE/graphql" --max-time "$GRAPHQL_SECS" -H "x-api-key: $SK" --checks graphql_error_contract || rc=1

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "the server exited during the run; its stderr:" >&2
  tail -n 40 "$TMP/server.err" >&2
  rc=1
fi
if [[ "$rc" -ne 0 ]]; then
  echo "--- server stderr (last 40 lines)"; tail -n 40 "$TMP/server.err"
fi
exit "$rc"
