#!/usr/bin/env bash
# Faults under load (bench/soak.mjs as the load, one line a second):
#  1. postgres: two servers on a PostgreSQL cluster of this script's own (initdb
#     in a temp dir, a free port; never the shared one), load on the first,
#     graphql-ws subscribers on the second (their events come through
#     LISTEN/NOTIFY); the cluster is stopped for FAULT_DOWN seconds mid-load
#     and started again.
#  2. sqlite-readonly: the server stopped, its tmpfs remounted read-only, the
#     server started on it (reads, a sign-up), then read-write again.
#  3. sqlite-full: SQLite on a small tmpfs filled up for FAULT_DOWN seconds.
# For each: the statuses and bodies of the failures, the slowest request,
# how long after the fault ends requests and subscription events succeed
# again, and (SQLite) `PRAGMA integrity_check` afterwards. Writes
# bench/results/faults-<time>.md.
#
#   bash bench/faults.sh                      # all three
#   bash bench/faults.sh postgres             # some of them
#
# Needs root (initdb runs as the postgres user; tmpfs mounts). Environment:
# FAULT_DOWN (10), FAULT_SECONDS (40), FAULT_USERS (50), AUTHGRAPH_BIN
# (default $CARGO_TARGET_DIR or target, /release/authgraph).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${AUTHGRAPH_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/authgraph}"
if [[ ! -x "$BIN" ]]; then cargo build --release --locked --bin authgraph; fi
DOWN="${FAULT_DOWN:-10}"
RUN_SECS="${FAULT_SECONDS:-40}"
USERS="${FAULT_USERS:-50}"
[[ -d clients/graphqlws/node_modules ]] || (cd clients/graphqlws && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
mkdir -p bench/results
REPORT="bench/results/faults-$(date -u +%Y%m%dT%H%M%SZ).md"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/authgraph-faults.XXXXXX")"
source "$ROOT/bench/server.sh"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
PGDATA="$WORK/pg"
OTHER_PID=""
MOUNT=""
cleanup() {
  stop_server
  if [[ -n "$OTHER_PID" ]]; then kill "$OTHER_PID" 2>/dev/null || true; wait "$OTHER_PID" 2>/dev/null || true; fi
  if [[ -f "$PGDATA/postmaster.pid" ]]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; fi
  if [[ -n "$MOUNT" ]]; then umount "$MOUNT" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# The load, in the background: its report goes to $WORK/$1.json, its
# one-line-a-second timeline to $WORK/$1.timeline.
load() { # name, extra soak.mjs args...
  local name="$1"; shift
  node bench/soak.mjs --base "$BASE" --pk "$PK" --sk "$SK" --pid "$SERVER_PID" --users "$USERS" \
    --subscribers 20 --seconds "$RUN_SECS" --timeout 30000 --timeline 1 \
    --mix read=40,update=40,list=20 "$@" --out "$WORK/$name.json" >/dev/null 2>"$WORK/$name.timeline" &
  LOAD_PID=$!
  # Wait until the load is running (its first timeline line).
  for _ in $(seq 1 600); do [[ -s "$WORK/$name.timeline" ]] && break; sleep 0.1; done
  sleep 8
}

# Reads the load's report and the fault window and appends a section.
summarize() { # name, title, down_ms, up_ms, [sqlite db path]
  python3 - "$WORK/$1.json" "$2" "$3" "$4" "${5:-}" >>"$REPORT" <<'PY'
import json, sqlite3, sys
path, title, down, up, db = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(path))
tl = r["timeline"]
during = [s for s in tl if down < s["at"] <= up + 1000]
after = [s for s in tl if s["at"] > up + 1000]
statuses = {}
for s in during:
    for k, v in s["statuses"].items():
        statuses[k] = statuses.get(k, 0) + v
# Recovery: the end of the first one-second bucket after the fault ends from
# which on every request succeeded; events likewise.
def first(pred):
    for i, s in enumerate(after):
        if all(pred(x) for x in after[i:i + 3]):
            return (s["at"] - up) / 1000
    return None
requests_back = first(lambda s: s["failed"] == 0 and s["ok"] > 0)
events_back = next(((s["at"] - up) / 1000 for s in after if s["events"] > 0), None)
print(f"## {title}\n")
print(f"Fault for {(up - down) / 1000:.1f} s, {r['users']} connections, {r['subscribers']} subscribers, {r['seconds']} s of load.\n")
print("| figure | value |\n|---|---|")
print(f"| requests / 5xx / failed | {r['requests']} / {r['s5xx']} / {r['errors']} |")
print(f"| statuses while down (+1 s) | {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} |")
print(f"| slowest request (any kind) | {max(k['max_ms'] for k in r['kinds'].values())} ms |")
print(f"| requests all succeed again after | {requests_back if requests_back is not None else 'never'} s |")
print(f"| subscription events again after | {events_back if events_back is not None else 'never'} s |")
print(f"| failures after recovery | {sum(s['failed'] for s in after if requests_back is not None and (s['at'] - up) / 1000 > requests_back)} |")
if db:
    con = sqlite3.connect(db)
    print(f"| PRAGMA integrity_check | {con.execute('PRAGMA integrity_check').fetchone()[0]} |")
    con.close()
print("\nFailure bodies (first of each kind):\n")
for kind, k in r["kinds"].items():
    for s in k["samples"][:5]:
        print(f"- {kind}: `{s[:200]}`")
print()
PY
}

pg_fault() {
  echo "== postgres: own cluster, stopped for ${DOWN} s mid-load"
  mkdir -p "$PGDATA" && chown postgres "$WORK" "$PGDATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
  local port; port="$(free_port)"
  local pg=(runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/pg.log" -w
    -o "-p $port -k $WORK -c listen_addresses=127.0.0.1")
  "${pg[@]}" start >/dev/null
  local url="postgres://postgres@127.0.0.1:$port/postgres"
  # The subscribers' server first, then the loaded one.
  start_server "$url"
  OTHER_PID="$SERVER_PID"; local other_dir="$SERVER_DIR" ws_base="$BASE"
  # The first server printed the keys (start_server read them); the second
  # finds the project and prints none.
  local pk="$PK" sk="$SK"
  SERVER_PID=""; SERVER_DIR=""
  start_server "$url"
  PK="$pk"; SK="$sk"
  load postgres --ws-base "$ws_base"
  local down up
  down="$(now_ms)"; "${pg[@]}" -m fast stop >/dev/null
  sleep "$DOWN"
  up="$(now_ms)"; "${pg[@]}" start >/dev/null
  wait "$LOAD_PID"
  summarize postgres "PostgreSQL stopped and started under load" "$down" "$up"
  stop_server
  kill "$OTHER_PID"; wait "$OTHER_PID" 2>/dev/null || true; OTHER_PID=""
  rm -rf "$other_dir"
  "${pg[@]}" -m fast stop >/dev/null
}

# A file system cannot be remounted read-only while the server holds its
# files open for writing (EBUSY), so this one stops the server, remounts, and
# starts it on the read-only database; then read-write again.
sqlite_readonly() {
  echo "== sqlite-readonly: the server started on a read-only file system, then on a writable one"
  MOUNT="$WORK/mnt-readonly"
  mkdir -p "$MOUNT" && mount -t tmpfs -o size=64m tmpfs "$MOUNT"
  SERVER_DATA_DIR="$MOUNT" start_server
  local pk="$PK" sk="$SK"
  gql() { # key, query -> status and body on one line
    curl -s -m 30 -o "$WORK/body" -w '%{http_code} %{time_total}s ' "$BASE/graphql" -H "x-api-key: $1" \
      -H 'content-type: application/json' -d "{\"query\": \"$2\"}" || echo "curl failed ($?)"
    head -c 240 "$WORK/body"; echo
  }
  local signup='mutation { signUp(input: {email: \"ro-N@example.com\", password: \"correct horse battery\"}) { user { id } } }'
  local count='{ users(first: 1) { totalCount } }'
  gql "$pk" "${signup/N/1}" >/dev/null
  stop_server
  mount -o remount,ro "$MOUNT"
  local started="yes"
  SERVER_DATA_DIR="$MOUNT" start_server 2>"$WORK/ro-start.err" || started="no: $(grep -v '^\s*$' "$WORK/ro-start.err" | tail -n 3 | tr '\n' ' ' | cut -c1-300)"
  local ro_read="-" ro_write="-"
  if [[ "$started" == yes ]]; then
    PK="$pk"; SK="$sk"
    ro_read="$(gql "$sk" "$count")"; ro_write="$(gql "$pk" "${signup/N/2}")"
    stop_server
  fi
  mount -o remount,rw "$MOUNT"
  SERVER_DATA_DIR="$MOUNT" start_server
  local rw_write rw_read
  rw_write="$(gql "$pk" "${signup/N/3}")"; rw_read="$(gql "$sk" "$count")"
  stop_server
  local check
  check="$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$MOUNT/authgraph.db")"
  {
    echo "## SQLite: a read-only file system"
    echo
    echo "| step | result |"
    echo "|---|---|"
    echo "| server starts on the read-only database | $started |"
    echo "| read while read-only | \`${ro_read//|/\\|}\` |"
    echo "| sign-up while read-only | \`${ro_write//|/\\|}\` |"
    echo "| sign-up once writable again | \`${rw_write//|/\\|}\` |"
    echo "| read once writable again | \`${rw_read//|/\\|}\` |"
    echo "| PRAGMA integrity_check | $check |"
    echo
  } >>"$REPORT"
  umount "$MOUNT"; MOUNT=""
}

sqlite_fault() { # full
  local kind="$1"
  echo "== sqlite-$kind: the data directory's file system $kind for ${DOWN} s mid-load"
  MOUNT="$WORK/mnt-$kind"
  mkdir -p "$MOUNT" && mount -t tmpfs -o size=64m tmpfs "$MOUNT"
  SERVER_DATA_DIR="$MOUNT" start_server
  # Updates of growing rows, so that writes need new pages while it lasts.
  load "sqlite-$kind" --pad 6000
  local down up
  down="$(now_ms)"
  if [[ "$kind" == readonly ]]; then
    mount -o remount,ro "$MOUNT"
  else
    dd if=/dev/zero of="$MOUNT/filler" bs=1M count=64 status=none 2>/dev/null || true
  fi
  sleep "$DOWN"
  up="$(now_ms)"
  if [[ "$kind" == readonly ]]; then mount -o remount,rw "$MOUNT"; else rm -f "$MOUNT/filler"; fi
  wait "$LOAD_PID"
  stop_server
  local title="SQLite: the file system read-only"
  [[ "$kind" == full ]] && title="SQLite: the file system full"
  summarize "sqlite-$kind" "$title" "$down" "$up" "$MOUNT/authgraph.db"
  umount "$MOUNT"; MOUNT=""
}

{
  echo "# Fault runs, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "\`bash bench/faults.sh\` on $(nproc) cores, $(basename "$BIN") $("$BIN" --version 2>/dev/null || true), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}')."
  echo
} >"$REPORT"
for fault in ${1:-postgres sqlite-readonly sqlite-full}; do
  case "$fault" in
    postgres) pg_fault ;;
    sqlite-readonly) sqlite_readonly ;;
    sqlite-full) sqlite_fault full ;;
    *) echo "unknown fault $fault" >&2; exit 2 ;;
  esac
done
cat "$REPORT"
