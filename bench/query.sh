#!/usr/bin/env bash
# The query matrix (issue 18): seeds USERS users in bulk on SQLite and on
# Postgres and, for three index configurations (none, single, composite),
# times each filter of the matrix in process, with its plan beside it.
#   bash bench/query.sh [USERS...]          # default: 100000 1000000
#   AUTHGRAPH_BENCH_PG=postgres://postgres@127.0.0.1:5432/test bash bench/query.sh 100000
# Writes bench/results/matrix-<sqlite|postgres>-<USERS>.md (table and plans)
# and prints the tables. The PocketBase side by side of the same kind of
# queries over HTTP is `bash bench/run.sh --full --only none --matrix`.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
((${#sizes[@]})) || sizes=(100000 1000000)
PG_ADMIN="${AUTHGRAPH_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --quiet --example query_bench
bin="$target/release/examples/query_bench"
mkdir -p bench/results
pg=0
if command -v psql >/dev/null && psql "$PG_ADMIN" -qc "select 1" >/dev/null 2>&1; then pg=1; fi
for n in "${sizes[@]}"; do
  echo "== SQLite, $n users (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$bin" "$n" "" "bench/results/matrix-sqlite-$n.md"
  if ((pg)); then
    psql "$PG_ADMIN" -qc "drop database if exists ag_bench_query" >/dev/null
    psql "$PG_ADMIN" -qc "create database ag_bench_query" >/dev/null
    echo "== Postgres, $n users (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    "$bin" "$n" "${PG_ADMIN%/*}/ag_bench_query" "bench/results/matrix-postgres-$n.md"
    psql "$PG_ADMIN" -qc "drop database if exists ag_bench_query" >/dev/null
  else
    echo "(Postgres not reachable at $PG_ADMIN: skipped)"
  fi
done
