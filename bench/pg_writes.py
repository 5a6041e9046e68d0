#!/usr/bin/env python3
"""Profile updates (`PATCH` own record, PocketBase's URL) on authgraph with
Postgres: a fresh database, 64 users signed up through the API, then wrk at
the given connections for the given seconds. Prints req/s, p50 and p99.

  python3 bench/pg_writes.py AUTHGRAPH_BINARY [--admin-url URL] [--connections 32] [--seconds 10]
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("authgraph")
    ap.add_argument("--admin-url", default="postgres://postgres@127.0.0.1:5432/test")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    db = "ag_bench_pg_writes"
    base = args.admin_url.rsplit("/", 1)[0]
    psql = ["psql", args.admin_url, "-qc"]
    subprocess.run(psql + [f"DROP DATABASE IF EXISTS {db}"], check=True)
    subprocess.run(psql + [f"CREATE DATABASE {db}"], check=True)
    work = Path(tempfile.mkdtemp(prefix="authgraph-pg-writes-"))
    kind = bench.AuthgraphKind(args.authgraph, extra_env={"DATABASE_URL": f"{base}/{db}"})
    port = bench.free_port()
    srv = kind.server(work / "data", port, work / "server.log")
    (work / "data").mkdir()
    bench.RUNNING.append(srv)
    try:
        srv.start()
        tokens = []
        for i in range(64):
            st, out = bench.signup(port, i)
            bench.must(st == 200, f"sign-up of u{i}", st, out)
            tokens.append(bench.login(port, i))
        (work / "tokens.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in tokens))
        env = {"BENCH_TOKENS": str(work / "tokens.tsv"), "BENCH_USERS": "64"}
        r = bench.wrk_result(bench.run_wrk(port, "update.lua", args.connections, args.seconds, env))
        print(f"authgraph on Postgres, profile update, {args.connections} connections, "
              f"{args.seconds} s (load {bench.loadavg()}): {r['rps']:.0f} req/s, p50 "
              f"{r['latency_us']['p50'] / 1000:.2f} ms, p99 {r['latency_us']['p99'] / 1000:.2f} ms, "
              f"errors {r['non2xx_or_socket_errors']}")
    finally:
        bench.stop_all()
        subprocess.run(psql + [f"DROP DATABASE IF EXISTS {db}"])


if __name__ == "__main__":
    main()
