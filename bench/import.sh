#!/usr/bin/env bash
# Import rate: N users (default 100,000) from a CSV of bcrypt hashes into a
# fresh SQLite database with `authgraph import --from csv`, timed end to end
# (reading, checking, batched inserts), then the same import again (every row
# skipped as already imported: the cost of resuming).
#
#   bench/import.sh [N]          # AUTHGRAPH_BIN picks the binary (default target/release/authgraph)
#
# Prints the rows per second and writes bench/results/import-<time>.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
n="${1:-100000}"
bin="${AUTHGRAPH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/authgraph}"
[[ -x "$bin" ]] || { echo "missing $bin (cargo build --release, or set AUTHGRAPH_BIN)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export AUTHGRAPH_DATA_DIR="$tmp/data" RUST_LOG=warn
unset AUTHGRAPH_CONFIG
unset DATABASE_URL AUTHGRAPH_DATABASE_URL

# Every row has a well-formed bcrypt string (cost 10, random salt and digest):
# importing never computes a hash, only a log-in does (tests/api/import.rs and
# clients/pocketbase/import_suite.mjs log imported users in).
python3 - "$n" >"$tmp/users.csv" <<'PY'
import random, sys
n = int(sys.argv[1])
alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
rng = random.Random(17)
print("id,email,password_hash,verified,name,plan")
for i in range(n):
    h = "$2b$10$" + "".join(rng.choice(alphabet) for _ in range(53))
    print(f"u{i:014d},user{i}@bench.example,{h},{'true' if i % 3 else 'false'},User {i},free")
PY
"$bin" project create Bench --slug bench >/dev/null
start=$(date +%s.%N)
"$bin" import --from csv "$tmp/users.csv" --project bench --json >"$tmp/summary.json"
end=$(date +%s.%N)
secs=$(python3 -c "print(round($end - $start, 2))")
rate=$(python3 -c "print(int($n / ($end - $start)))")
imported=$(python3 -c "import json; print(json.load(open('$tmp/summary.json'))['imported'])")
again_start=$(date +%s.%N)
"$bin" import --from csv "$tmp/users.csv" --project bench --json >"$tmp/again.json"
again=$(python3 -c "print(round($(date +%s.%N) - $again_start, 2))")
load=$(cut -d' ' -f1-3 /proc/loadavg)
out="$here/results/import-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "| users | imported | wall (s) | rows/s | re-run, all skipped (s) | binary | load avg |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $n | $imported | $secs | $rate | $again | $(basename "$(dirname "$bin")") | $load |"
} | tee "$out"
