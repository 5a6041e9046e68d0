#!/usr/bin/env bash
# Querying benchmark at scale (the querying issue): seeds USERS users on SQLite
# and on Postgres and prints median/p99 tables. Usage:
#   bash bench/query.sh [USERS]            # default 1000000
#   AUTHGRAPH_BENCH_PG=postgres://postgres@127.0.0.1:5432/test bash bench/query.sh
set -euo pipefail
cd "$(dirname "$0")/.."
USERS="${1:-1000000}"
PG_ADMIN="${AUTHGRAPH_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release --example query_bench
echo "== SQLite, $USERS users"
target/release/examples/query_bench "$USERS"
if command -v psql >/dev/null && psql "$PG_ADMIN" -qc "select 1" >/dev/null 2>&1; then
  psql "$PG_ADMIN" -qc "drop database if exists ag_bench_query" >/dev/null
  psql "$PG_ADMIN" -qc "create database ag_bench_query" >/dev/null
  echo "== Postgres, $USERS users"
  target/release/examples/query_bench "$USERS" "${PG_ADMIN%/*}/ag_bench_query"
  psql "$PG_ADMIN" -qc "drop database if exists ag_bench_query" >/dev/null
else
  echo "(Postgres not reachable at $PG_ADMIN: skipped)"
fi
