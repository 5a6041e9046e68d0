# Sourced by bench/soak.sh and bench/faults.sh: start_server [DATABASE_URL]
# starts "$BIN" on a free loopback port (SQLite in a temp dir without a URL)
# and sets BASE, PK, SK, SERVER_PID and SERVER_DIR; stop_server ends it.
SERVER_PID=""
SERVER_DIR=""

start_server() {
  local url="${1:-}"
  SERVER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/authgraph-bench.XXXXXX")"
  mkdir -p "$SERVER_DIR/data"
  local env_args=(env -u DATABASE_URL -u AUTHGRAPH_DATABASE_URL -u AUTHGRAPH_CONFIG
    AUTHGRAPH_DATA_DIR="${SERVER_DATA_DIR:-$SERVER_DIR/data}" AUTHGRAPH_ADDR=127.0.0.1:0 RUST_LOG=warn
    # One address sends everything: the per-address limits would refuse it
    # (the refresh one too: 600 an hour from one address is a minute of the soak).
    AUTHGRAPH_LOGIN_LIMIT_PER_IP=100000000 AUTHGRAPH_SIGNUP_LIMIT_PER_IP=100000000
    AUTHGRAPH_REFRESH_LIMIT_PER_IP=100000000)
  [[ -n "$url" ]] && env_args+=(DATABASE_URL="$url")
  : >"$SERVER_DIR/out"  # before the background start, so the wait loop can read it
  (cd "$SERVER_DIR" && exec "${env_args[@]}" "$BIN" serve) >"$SERVER_DIR/out" 2>"$SERVER_DIR/err" &
  SERVER_PID=$!
  BASE=""
  for _ in $(seq 1 300); do
    BASE="$(sed -n 's/^authgraph listening on \(http:\/\/[^[:space:]]*\).*$/\1/p' "$SERVER_DIR/out" | head -n1)"
    [[ -n "$BASE" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$BASE" ]] || { echo "the server did not start:" >&2; cat "$SERVER_DIR/err" >&2; return 1; }
  BASE="${BASE%/}"
  PK="$(sed -n 's/^ *publishable key: *\([^[:space:]]*\).*$/\1/p' "$SERVER_DIR/out")"
  SK="$(sed -n 's/^ *secret key: *\([^[:space:]]*\).*$/\1/p' "$SERVER_DIR/out")"
}

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  [[ -n "$SERVER_DIR" ]] && rm -rf "$SERVER_DIR"
  SERVER_DIR=""
}
