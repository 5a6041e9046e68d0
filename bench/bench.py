#!/usr/bin/env python3
"""authgraph vs PocketBase, side by side (driven by bench/run.sh).

Sets both servers up with the same `users` auth collection (city text indexed,
age number indexed, name text), seeds the same N users into each, then runs
every workload with wrk against one server at a time, alternating which server
goes first in each round, and writes medians to Markdown.

Only the standard library is used (plus argon2-cffi and bcrypt for the hash
limit), so it runs from bench/.venv.
"""
from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import datetime as dt
import http.client as httpc
import json
import urllib.parse
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "lua"
RESULTS = BENCH / "results"

PASSWORD = "benchpass123"
ADMIN_EMAIL = "admin@bench.local"
ADMIN_PASSWORD = "benchadminpass123"
# Ten cities, assigned round-robin: `city='Oslo'` matches 10% of the users.
CITIES = ["Oslo", "Bergen", "Trondheim", "Stavanger", "Drammen",
          "Kristiansand", "Tromso", "Bodo", "Alesund", "Hamar"]
TOKEN_POOL = 64
CLK_TCK = os.sysconf("SC_CLK_TCK")
LIST_FILTER = "/api/collections/users/records?filter=(city%3D%27Oslo%27)&perPage=50"

MODES = {
    # users, seconds per workload, rounds
    # Hash-bound workloads (log-in, sign-up, the log-in flood) get at least
    # hash_seconds: at 64 connections a server that hashes all requests at once
    # finishes its first batch only after 64 × (hash time) ÷ cores ≈ 1–2 s, and
    # wrk drops what is still in flight when it stops.
    "quick": dict(users=2_000, seconds=5, hash_seconds=10, rounds=1),
    "full": dict(users=100_000, seconds=20, hash_seconds=20, rounds=3),
}

# (key, label, lua script, connections, auth kind)
WORKLOADS = [
    ("health", "`GET /api/health` (no token, baseline)", "get.lua", 64, None),
    ("read", "current-user read (`GET …/records/{own id}`)", "read.lua", 64, "user"),
    ("list_total", "admin list, `city='Oslo'`, perPage=50, with total", "get.lua", 64, "admin"),
    ("list_skip", "admin list, `city='Oslo'`, perPage=50, `skipTotal=1`", "get.lua", 64, "admin"),
    ("update", "profile update (`PATCH` own record)", "update.lua", 64, "user"),
    ("refresh", "token refresh (`auth-refresh`)", "refresh.lua", 64, "user"),
    ("login", "log-in (`auth-with-password`)", "login.lua", 64, None),
    ("signup", "sign-up (`POST …/records`)", "signup.lua", 64, None),
]


def log(*a):
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


# --------------------------------------------------------------------------
# HTTP and /proc helpers


def http(port, method, path, body=None, headers=None, timeout=30.0):
    conn = httpc.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return r.status, parsed
    finally:
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def machine_usage(start=None):
    """Without an argument, a snapshot; with one, the share of the machine's CPU
    time since that snapshot used by processes other than this run (the
    servers, wrk and this script are its children or itself)."""
    import resource

    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    busy = (sum(cpu) - cpu[3] - cpu[4]) / CLK_TCK  # all but idle and iowait
    mine = sum(getattr(resource.getrusage(w), k) for w in (resource.RUSAGE_SELF,
               resource.RUSAGE_CHILDREN) for k in ("ru_utime", "ru_stime"))
    snap = (time.monotonic(), busy, mine)
    if start is None:
        return snap
    wall = snap[0] - start[0]
    other = (snap[1] - start[1]) - (snap[2] - start[2])
    return max(0.0, other / (wall * (os.cpu_count() or 1)))


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --------------------------------------------------------------------------
# Servers


class Server:
    """One server process on loopback."""

    def __init__(self, kind, argv, env, port, ready_path, logfile, cwd):
        self.kind, self.argv, self.env, self.port = kind, argv, env, port
        self.ready_path, self.logfile, self.cwd = ready_path, logfile, cwd
        self.proc = None
        self.ready_s = None

    def start(self, timeout=120.0):
        out = open(self.logfile, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} before it "
                                   f"was ready; see {self.logfile}")
            try:
                conn = httpc.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.ready_path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    self.ready_s = time.perf_counter() - t0
                    return self.ready_s
            except OSError:
                pass
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"{self.kind} not ready after {timeout}s; see {self.logfile}")
            time.sleep(0.002)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


RUNNING: list[Server] = []
# Set from the command line: run only these workloads (None: all), at this
# many connections (None: each workload's own), and the matrix of list queries.
ONLY: set | None = None
CONNECTIONS: int | None = None
MATRIX_ON = False
LOADERS: list[subprocess.Popen] = []


def stop_all():
    for p in LOADERS:
        if p.poll() is None:
            p.terminate()
    for s in RUNNING:
        try:
            s.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AUTHGRAPH_") and k not in ("DATABASE_URL", "RUST_LOG")}
    env.update(extra)
    return env


class AuthgraphKind:
    name = "authgraph"
    ready_path = "/readyz"

    def __init__(self, binary, extra_env=None, limits=False):
        self.binary = str(Path(binary).resolve())
        self.extra_env = dict(extra_env or {})
        self.limits = limits

    def env(self, data, port):
        # All load comes from one address, and PocketBase's rate limiter is off
        # by default: authgraph's per-address limits and lockout are off too,
        # unless `--limits on` asks for them at their defaults.
        off = {} if self.limits else {"AUTHGRAPH_LOGIN_LIMIT_PER_IP": "0",
                                      "AUTHGRAPH_SIGNUP_LIMIT_PER_IP": "0",
                                      "AUTHGRAPH_LOCKOUT_FAILURES": "0"}
        return clean_env({"AUTHGRAPH_DATA_DIR": str(data),
                          "AUTHGRAPH_ADDR": f"127.0.0.1:{port}", **off, **self.extra_env})

    def server(self, data, port, logfile):
        return Server(self.name, [self.binary, "serve"], self.env(data, port), port,
                      self.ready_path, logfile, data.parent)

    def cli(self, data, *args):
        subprocess.run([self.binary, *args], env=self.env(data, 0), cwd=data.parent,
                       check=True, stdout=subprocess.DEVNULL)

    def prepare(self, data, port, logfile):
        """Declares the fields and the superuser before the first start."""
        data.mkdir(parents=True)
        project = data.parent / "authgraph-project.toml"
        project.write_text(
            '[project]\nslug = "default"\nname = "Default"\n\n'
            '[[collections]]\nname = "users"\n\n'
            '[[collections.fields]]\nname = "city"\ntype = "text"\nindexed = true\n\n'
            '[[collections.fields]]\nname = "age"\ntype = "number"\nindexed = true\n\n'
            '[[collections.fields]]\nname = "name"\ntype = "text"\n')
        self.cli(data, "apply", str(project))
        self.cli(data, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD)
        return self.server(data, port, logfile)

    def db_path(self, data):
        return data / "authgraph.db"

    def seed(self, data, n):
        """Copies the API-made row of u0 (and its argon2id hash) to u1…u(n-1)."""
        con = sqlite3.connect(self.db_path(data))
        con.row_factory = sqlite3.Row
        tpl = dict(con.execute("SELECT * FROM users WHERE email = 'u0@bench.local'").fetchone())
        cols = list(tpl.keys())
        fmt = ts_format(tpl["created_at"])
        base = parse_ts(tpl["created_at"])
        rng = random.Random(1)
        rows = []
        for i in range(1, n):
            r = dict(tpl)
            r["id"] = rand_id(rng, 15)
            r["email"] = r["email_normalized"] = f"u{i}@bench.local"
            r["data"] = json.dumps(profile(i), separators=(",", ":"), sort_keys=True)
            stamp = fmt(base - dt.timedelta(seconds=n - i))
            r["created_at"] = r["updated_at"] = stamp
            rows.append(tuple(r[c] for c in cols))
        with con:
            con.executemany(f"INSERT INTO users ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                            rows)
        count = con.execute("SELECT count(*) FROM users").fetchone()[0]
        con.close()
        return count, tpl["password_hash"]

    def stored_hash(self, data):
        con = sqlite3.connect(self.db_path(data))
        h = con.execute("SELECT password_hash FROM users LIMIT 1").fetchone()[0]
        con.close()
        return h


class PocketBaseKind:
    name = "PocketBase"
    ready_path = "/api/health"

    def __init__(self, binary):
        self.binary = str(Path(binary).resolve())

    def server(self, data, port, logfile):
        return Server(self.name, [self.binary, "serve", "--http", f"127.0.0.1:{port}",
                                  "--dir", str(data)],
                      clean_env({}), port, self.ready_path, logfile, data.parent)

    def prepare(self, data, port, logfile):
        data.mkdir(parents=True)
        subprocess.run([self.binary, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD,
                        "--dir", str(data)], check=True, stdout=subprocess.DEVNULL,
                       cwd=data.parent, env=clean_env({}))
        return self.server(data, port, logfile)

    def declare_fields(self, port, admin_token):
        """Adds city (text) and age (number) to the default `users` collection
        (which already has `name`), and indexes on both."""
        auth = {"Authorization": admin_token}
        st, coll = http(port, "GET", "/api/collections/users", headers=auth)
        must(st == 200, "PocketBase: reading the users collection", st, coll)
        names = {f["name"] for f in coll["fields"]}
        fields = list(coll["fields"])
        if "city" not in names:
            fields.append({"name": "city", "type": "text"})
        if "age" not in names:
            fields.append({"name": "age", "type": "number"})
        if "name" not in names:
            fields.append({"name": "name", "type": "text"})
        indexes = list(coll.get("indexes") or []) + [
            "CREATE INDEX `idx_users_city` ON `users` (`city`)",
            "CREATE INDEX `idx_users_age` ON `users` (`age`)"]
        st, out = http(port, "PATCH", "/api/collections/users", {"fields": fields, "indexes": indexes},
                       headers=auth)
        must(st == 200, "PocketBase: declaring city/age", st, out)

    def db_path(self, data):
        return data / "data.db"

    def seed(self, data, n):
        """Copies the API-made row of u0 (and its bcrypt hash) to u1…u(n-1)."""
        con = sqlite3.connect(self.db_path(data))
        con.row_factory = sqlite3.Row
        tpl = dict(con.execute("SELECT * FROM users WHERE email = 'u0@bench.local'").fetchone())
        cols = list(tpl.keys())
        fmt = ts_format(tpl["created"])
        base = parse_ts(tpl["created"])
        rng = random.Random(2)
        alnum = string.ascii_letters + string.digits
        rows = []
        for i in range(1, n):
            r = dict(tpl)
            r["id"] = rand_id(rng, 15)
            r["email"] = f"u{i}@bench.local"
            r["tokenKey"] = "".join(rng.choice(alnum) for _ in range(50))
            r.update(profile(i))
            stamp = fmt(base - dt.timedelta(seconds=n - i))
            r["created"] = r["updated"] = stamp
            rows.append(tuple(r[c] for c in cols))
        quoted = ",".join(f'"{c}"' for c in cols)
        with con:
            con.executemany(f"INSERT INTO users ({quoted}) VALUES ({','.join('?' * len(cols))})", rows)
        count = con.execute("SELECT count(*) FROM users").fetchone()[0]
        con.close()
        return count, tpl["password"]

    def stored_hash(self, data):
        con = sqlite3.connect(self.db_path(data))
        h = con.execute("SELECT password FROM users LIMIT 1").fetchone()[0]
        con.close()
        return h


def profile(i):
    return {"city": CITIES[i % len(CITIES)], "age": 18 + i % 60, "name": f"User {i}"}


def rand_id(rng, n):
    alphabet = string.ascii_lowercase + string.digits
    return "".join(rng.choice(alphabet) for _ in range(n))


def parse_ts(s):
    """Parses the timestamp text either server stores."""
    t = s.strip().replace("T", " ")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    return dt.datetime.fromisoformat(t)


def ts_format(sample):
    """A formatter producing timestamps shaped like `sample`."""
    frac = re.search(r"\.(\d+)", sample)
    digits = len(frac.group(1)) if frac else 0
    sep = "T" if "T" in sample else " "
    tail = "Z" if sample.endswith("Z") else ("+00:00" if sample.endswith("+00:00") else "")

    def fmt(d):
        d = d.astimezone(dt.timezone.utc)
        out = d.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
        if digits:
            out += "." + f"{d.microsecond:06d}{'0' * 3}"[:digits]
        return out + tail

    return fmt


def must(cond, what, status=None, body=None):
    if not cond:
        raise RuntimeError(f"{what} failed: HTTP {status} {json.dumps(body)[:400]}")


# --------------------------------------------------------------------------
# Set-up: one seeded snapshot per server, reused (copied) by every round


def signup(port, i):
    body = {"email": f"u{i}@bench.local", "password": PASSWORD, "passwordConfirm": PASSWORD,
            **profile(i)}
    return http(port, "POST", "/api/collections/users/records", body)


def login(port, i):
    st, out = http(port, "POST", "/api/collections/users/auth-with-password",
                   {"identity": f"u{i}@bench.local", "password": PASSWORD})
    must(st == 200 and isinstance(out, dict) and "token" in out, f"log-in of u{i}", st, out)
    return out["record"]["id"], out["token"]


def admin_login(port):
    st, out = http(port, "POST", "/api/collections/_superusers/auth-with-password",
                   {"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    must(st == 200 and "token" in out, "superuser log-in", st, out)
    return out["token"]


def build_snapshot(kind, work, n):
    """Creates, seeds and tokens a data dir; returns facts about it."""
    data = work / f"{kind.name}-seed" / "data"
    logfile = work / f"{kind.name}-setup.log"
    port = free_port()
    t0 = time.perf_counter()
    srv = kind.prepare(data, port, logfile)
    RUNNING.append(srv)
    srv.start()
    admin = admin_login(port)
    if isinstance(kind, PocketBaseKind):
        kind.declare_fields(port, admin)
    st, out = signup(port, 0)
    must(st == 200, "sign-up of u0 through the API", st, out)
    srv.stop()
    count, template_hash = kind.seed(data, n)
    # The rows came in behind the servers' backs (a bulk import): give both
    # planners statistics of them, as an import through either would.
    con = sqlite3.connect(kind.db_path(data))
    con.execute("ANALYZE")
    con.close()
    must(count >= n, f"{kind.name}: seeding {n} users (have {count})")
    srv.start()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        tokens = list(pool.map(lambda i: login(port, i), range(1, TOKEN_POOL + 1)))
    admin = admin_login(port)
    # Checks that the seeded rows are real users: the filter sees 10% of them.
    st, out = http(port, "GET", LIST_FILTER, headers={"Authorization": admin})
    must(st == 200, "filtered list", st, out)
    srv.stop()
    (data.parent / "tokens.tsv").write_text("".join(f"{i}\t{t}\n" for i, t in tokens))
    (data.parent / "admin.token").write_text(admin)
    facts = {"users": count, "oslo_total": out.get("totalItems"), "hash": template_hash,
             "setup_seconds": round(time.perf_counter() - t0, 1),
             "db_bytes": sum(p.stat().st_size for p in data.iterdir() if p.is_file()
                             and (p.name.endswith(".db") or ".db-" in p.name))}
    log(f"{kind.name}: seeded {count} users in {facts['setup_seconds']} s "
        f"(Oslo: {facts['oslo_total']}), hash {template_hash[:30]}…")
    return data.parent, facts


# --------------------------------------------------------------------------
# Load


def window(seconds):
    """The steady-state window of a hash-bound run: past the first batch, and
    short of the end (see lua/common.lua)."""
    start = min(4.0, seconds * 0.3)
    return {"BENCH_WINDOW_FROM": f"{start:.2f}", "BENCH_WINDOW_TO": f"{seconds - 0.5:.2f}"}


def run_wrk(port, script, conns, seconds, env_extra, threads=2):
    env = dict(os.environ)
    env.update({"BENCH_LUA_DIR": str(LUA), "BENCH_PASSWORD": PASSWORD})
    if script in ("login.lua", "signup.lua"):
        env.update(window(seconds))
    env.update(env_extra)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s",
           "-s", str(LUA / script), f"http://127.0.0.1:{port}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    LOADERS.append(proc)
    return proc


def wrk_result(proc):
    out, _ = proc.communicate()
    LOADERS.remove(proc)
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            r = json.loads(line[len("BENCH_JSON "):])
            r["rps_all"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
            # Hash-bound workloads: successful responses inside the steady window.
            r["rps"] = r["steady"] / r["window_s"] if r.get("window_s", 0) > 0 else r["rps_all"]
            r["non2xx_or_socket_errors"] = sum(r["errors"].values())
            return r
    raise RuntimeError(f"wrk printed no result:\n{out[-2000:]}")


def preflight(port, key, tokens, admin):
    """One request of a workload from Python: its status and a body sample."""
    uid, tok = tokens[0]
    try:
        if key == "health":
            st, out = http(port, "GET", "/api/health")
        elif key == "read":
            st, out = http(port, "GET", f"/api/collections/users/records/{uid}",
                           headers={"Authorization": tok})
        elif key == "list_total":
            st, out = http(port, "GET", LIST_FILTER, headers={"Authorization": admin})
        elif key == "list_skip":
            st, out = http(port, "GET", LIST_FILTER + "&skipTotal=1",
                           headers={"Authorization": admin})
        elif key == "update":
            st, out = http(port, "PATCH", f"/api/collections/users/records/{uid}",
                           {"age": 42, "name": "Preflight"}, headers={"Authorization": tok})
        elif key == "refresh":
            st, out = http(port, "POST", "/api/collections/users/auth-refresh",
                           headers={"Authorization": tok})
        elif key == "login":
            st, out = http(port, "POST", "/api/collections/users/auth-with-password",
                           {"identity": "u7@bench.local", "password": PASSWORD})
        elif key == "signup":
            st, out = http(port, "POST", "/api/collections/users/records",
                           {"email": f"pre{random.randrange(10**9)}@bench.local",
                            "password": PASSWORD, "passwordConfirm": PASSWORD, **profile(3)})
        else:
            return None
    except OSError as e:
        return {"status": None, "error": str(e)}
    sample = json.dumps(out)[:300] if out is not None else ""
    info = {"status": st, "sample": sample}
    if key in ("list_total", "list_skip") and isinstance(out, dict):
        info["items"] = len(out.get("items") or [])
        info["totalItems"] = out.get("totalItems")
    return info


def run_round(kind, snapshot, work, rnd, cfg, users, sqlite_cost=None):
    """One server, every workload; returns the measurements of this round."""
    data_src = snapshot / "data"
    run_dir = work / f"{kind.name}-r{rnd}"
    shutil.copytree(snapshot, run_dir)
    data = run_dir / "data"
    tokens = [tuple(l.split("\t")) for l in (run_dir / "tokens.tsv").read_text().splitlines()]
    admin = (run_dir / "admin.token").read_text().strip()
    port = free_port()
    srv = kind.server(data, port, work / f"{kind.name}-r{rnd}.log")
    RUNNING.append(srv)
    res = {"server": kind.name, "round": rnd, "workloads": {}}
    try:
        res["ready_s"] = srv.start()
        time.sleep(2.0)
        res["idle_rss_kib"] = status_kib(srv.pid, "VmRSS")
        res["idle_hwm_kib"] = status_kib(srv.pid, "VmHWM")
        base_env = {"BENCH_TOKENS": str(run_dir / "tokens.tsv"), "BENCH_USERS": str(users)}
        for key, _label, script, conns, auth in WORKLOADS:
            if ONLY is not None and key not in ONLY:
                continue
            conns = CONNECTIONS or conns
            pre = preflight(port, key, tokens, admin)
            env = dict(base_env)
            if key == "health":
                env["BENCH_PATH"] = "/api/health"
            elif key == "list_total":
                env.update(BENCH_PATH=LIST_FILTER, BENCH_AUTH=admin)
            elif key == "list_skip":
                env.update(BENCH_PATH=LIST_FILTER + "&skipTotal=1", BENCH_AUTH=admin)
            seconds = cfg["seconds"]
            if key in ("login", "signup"):
                seconds = max(seconds, cfg.get("hash_seconds", seconds))
            c0 = cpu_seconds(srv.pid)
            r = wrk_result(run_wrk(port, script, conns, seconds, env))
            r["cpu_s"] = cpu_seconds(srv.pid) - c0
            r["cpu_ms_per_req"] = 1000 * r["cpu_s"] / r["requests"] if r["requests"] else None
            r["rss_after_kib"] = status_kib(srv.pid, "VmRSS")
            r["hwm_after_kib"] = status_kib(srv.pid, "VmHWM")
            r["preflight"] = pre
            res["workloads"][key] = r
            log(f"  {kind.name} r{rnd} {key:10s} {r['rps']:9.1f} req/s  p50 "
                f"{r['latency_us']['p50'] / 1000:7.2f} ms  p99 {r['latency_us']['p99'] / 1000:8.2f} ms"
                f"  errors {r['non2xx_or_socket_errors']}  cpu {r['cpu_s']:.1f} s"
                f"  rss {r['rss_after_kib'] // 1024} MiB (peak {r['hwm_after_kib'] // 1024})"
                + ("" if pre and pre.get("status") == 200 else f"  preflight {pre}"))
        if MATRIX_ON:
            res["matrix"] = run_matrix(kind.name, port, admin)
        if ONLY is not None and "mixed" not in ONLY:
            res["peak_rss_kib"] = status_kib(srv.pid, "VmHWM")
            return res  # the server stops below; the work dir goes at the end
        # Reads while a log-in flood runs: two wrk processes at once.
        env = dict(base_env)
        c0 = cpu_seconds(srv.pid)
        seconds = max(cfg["seconds"], cfg.get("hash_seconds", 0))
        reads = run_wrk(port, "read.lua", 64, seconds, env, threads=1)
        logins = run_wrk(port, "login.lua", 64, seconds, env, threads=1)
        rr, lr = wrk_result(reads), wrk_result(logins)
        res["mixed"] = {"read": rr, "login": lr, "cpu_s": cpu_seconds(srv.pid) - c0}
        log(f"  {kind.name} r{rnd} mixed      reads {rr['rps']:9.1f} req/s p99 "
            f"{rr['latency_us']['p99'] / 1000:.2f} ms, log-ins {lr['rps']:.1f} req/s, errors "
            f"{rr['non2xx_or_socket_errors']}/{lr['non2xx_or_socket_errors']}")
        res["peak_rss_kib"] = status_kib(srv.pid, "VmHWM")
        res["rss_end_kib"] = status_kib(srv.pid, "VmRSS")
        res["cpu_total_s"] = cpu_seconds(srv.pid)
    finally:
        srv.stop()
        RUNNING.remove(srv)
    # Start-to-ready again, now on the database the round grew.
    srv2 = kind.server(data, port, work / f"{kind.name}-r{rnd}.log")
    RUNNING.append(srv2)
    try:
        res["ready2_s"] = srv2.start()
    finally:
        srv2.stop()
        RUNNING.remove(srv2)
    if sqlite_cost and isinstance(kind, AuthgraphKind):
        # The lookups on the database this round grew (thousands of sessions).
        res["sqlite_cost"] = run_sqlite_cost(sqlite_cost, data / "authgraph.db")
    shutil.rmtree(run_dir, ignore_errors=True)
    _ = data_src
    return res


# --------------------------------------------------------------------------
# Hashes and the revocation check


# The list queries of the matrix both servers can answer (PocketBase filter
# syntax, the 100k rows of the side-by-side: city, age and name, with an index
# on city and one on age): (label, filter). Each runs with and without the
# total, on the first and on the 20th page, newest first and by age.
MATRIX = [
    ("`city` = (indexed)", "city='Oslo'"),
    ("`age` range (indexed)", "age>=30 && age<32"),
    ("`city` in two values (as `||`)", "city='Oslo' || city='Bergen'"),
    ("`name` contains (no index)", "name~'User 12'"),
    ("`city` = and `age` > (two indexes)", "city='Oslo' && age>30"),
    ("`city` =, `age` range (three conditions)", "city='Oslo' && age>30 && age<50"),
    ("`name` = and `age` > (no index on name)", "name='User 1234' && age>30"),
]


def run_matrix(server, port, admin, max_s=2.0, samples=15):
    """Each matrix query in turn on one keep-alive connection: median and
    p90 of up to `samples` answers (at most `max_s` s per query, at least 3)."""
    out = []
    conn = httpc.HTTPConnection("127.0.0.1", port, timeout=60)
    for label, flt in MATRIX:
        for sort in ("-created", "age"):
            for total in (False, True):
                for page in (1, 20):
                    q = urllib.parse.urlencode({"filter": f"({flt})", "perPage": 50, "page": page,
                                                "sort": sort, **({} if total else {"skipTotal": 1})})
                    path = f"/api/collections/users/records?{q}"
                    times, status, items, total_items = [], None, None, None
                    t_start = time.perf_counter()
                    while len(times) < samples and (len(times) < 3
                                                    or time.perf_counter() - t_start < max_s):
                        t0 = time.perf_counter()
                        conn.request("GET", path, headers={"Authorization": admin})
                        r = conn.getresponse()
                        body = r.read()
                        times.append(time.perf_counter() - t0)
                        status = r.status
                    try:
                        parsed = json.loads(body)
                        items, total_items = len(parsed.get("items") or []), parsed.get("totalItems")
                    except ValueError:
                        pass
                    times.sort()
                    row = {"label": label, "filter": flt, "sort": sort, "total": total, "page": page,
                           "status": status, "items": items, "totalItems": total_items,
                           "median_ms": 1000 * statistics.median(times),
                           "p90_ms": 1000 * times[int(0.9 * (len(times) - 1))], "n": len(times)}
                    out.append(row)
    conn.close()
    log(f"  {server}: matrix of {len(out)} queries done")
    return out


def times(a, b):
    """a ÷ b as `2.50×`."""
    return f"{a / b:.2f}×" if a and b else "–"


def render_partial(rounds):
    """The table of a run of some workloads and/or the matrix."""
    lines = []
    by = {}
    for r in rounds:
        for key, w in r["workloads"].items():
            by.setdefault(key, {}).setdefault(r["server"], []).append(w)
    if by:
        lines += ["| workload | connections | authgraph req/s (p50 / p99 ms) | PocketBase req/s (p50 / p99 ms) | ratio |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        label = {k: l for k, l, *_ in WORKLOADS}
        conns = {k: c for k, _l, _s, c, _a in WORKLOADS}
        for key, servers in by.items():
            cells = {}
            for name in ("authgraph", "PocketBase"):
                ws = servers.get(name, [])
                rps = med([w["rps"] for w in ws])
                p50 = med([w["latency_us"]["p50"] for w in ws])
                p99 = med([w["latency_us"]["p99"] for w in ws])
                err = sum(w["non2xx_or_socket_errors"] for w in ws)
                cells[name] = (rps, f"{fmt_rate(rps)} ({fmt_ms(p50)} / {fmt_ms(p99)})"
                               + (f", {err} non-2xx" if err else ""))
            a, b = cells["authgraph"][0], cells["PocketBase"][0]
            lines.append(f"| {label[key]} | {CONNECTIONS or conns[key]} | {cells['authgraph'][1]} | "
                         f"{cells['PocketBase'][1]} | {times(a, b)} |")
    mats = {}
    for r in rounds:
        for row in r.get("matrix", []):
            k = (row["label"], row["sort"], row["total"], row["page"])
            mats.setdefault(k, {}).setdefault(r["server"], []).append(row)
    if mats:
        lines += ["", "| query (100k users) | sort | total | page | authgraph median ms | PocketBase median ms | ratio |",
                  "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
        for (label, sort, total, page), servers in mats.items():
            a = med([x["median_ms"] for x in servers.get("authgraph", [])])
            b = med([x["median_ms"] for x in servers.get("PocketBase", [])])
            bad = [f"{n}: HTTP {x['status']}" for n, xs in servers.items() for x in xs
                   if x["status"] != 200]
            rt = times(b, a)
            lines.append(f"| {label} | `{sort}` | {'yes' if total else 'no'} | {page} | "
                         f"{a:.2f} | {b:.2f} | {rt}{' (' + ', '.join(bad) + ')' if bad else ''} |")
    return "\n".join(lines)


def hash_facts(ag_hash, pb_hash, samples):
    """Time of one verification of each server's stored hash, in this process."""
    import argon2
    import bcrypt

    out = {"argon2id": {"phc": re.sub(r"\$[^$]*\$[^$]*$", "$…", ag_hash)},
           "bcrypt": {"prefix": pb_hash[:7]}}
    m = re.match(r"\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$", ag_hash)
    if m:
        out["argon2id"].update(v=int(m[1]), m=int(m[2]), t=int(m[3]), p=int(m[4]))
    c = re.match(r"\$2[aby]\$(\d+)\$", pb_hash)
    if c:
        out["bcrypt"]["cost"] = int(c[1])
    ph = argon2.PasswordHasher()
    pw = PASSWORD.encode()

    def timed(fn):
        fn()
        ts = []
        for _ in range(samples):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts)

    out["argon2id"]["verify_s"] = timed(lambda: ph.verify(ag_hash, PASSWORD))
    out["bcrypt"]["verify_s"] = timed(lambda: bcrypt.checkpw(pw, pb_hash.encode()))
    cores = os.cpu_count() or 1
    for k in out:
        out[k]["limit_per_s"] = cores / out[k]["verify_s"]
    out["cores"] = cores
    return out


def run_sqlite_cost(binary, db, iterations=50_000):
    """bench/sqlite_cost.c: the session and user lookups with authgraph's SQLite."""
    out = subprocess.run([binary, str(db), str(iterations)], capture_output=True, text=True)
    if out.returncode != 0:
        log(f"sqlite_cost failed: {out.stderr.strip()[:300]}")
        return None
    return json.loads(out.stdout)


def ab_revocation(binary, snapshot, work, cfg):
    """Current-user reads on the same snapshot, alternating: the server as it
    runs by default (the session-and-user lookup cached for 1 s, invalidated by
    every revocation) and with AUTHGRAPH_AUTH_CACHE_MS=0 (one query per request)."""
    results = {"with": [], "without": []}
    base = AuthgraphKind(binary)
    variant = AuthgraphKind(binary, {"AUTHGRAPH_AUTH_CACHE_MS": "0"})
    for rnd in range(cfg["rounds"]):
        order = [("with", base), ("without", variant)]
        if rnd % 2:
            order.reverse()
        for label, kind in order:
            run_dir = work / f"ab-{label}-r{rnd}"
            shutil.copytree(snapshot, run_dir)
            port = free_port()
            srv = kind.server(run_dir / "data", port, work / f"ab-{label}.log")
            RUNNING.append(srv)
            try:
                srv.start()
                time.sleep(1.0)
                env = {"BENCH_TOKENS": str(run_dir / "tokens.tsv")}
                c0 = cpu_seconds(srv.pid)
                r = wrk_result(run_wrk(port, "read.lua", 64, cfg["seconds"], env))
                r["cpu_s"] = cpu_seconds(srv.pid) - c0
                r["cpu_ms_per_req"] = 1000 * r["cpu_s"] / r["requests"] if r["requests"] else None
                results[label].append(r)
                log(f"  A/B r{rnd} {label:7s} auth cache: {r['rps']:9.1f} req/s  p50 "
                    f"{r['latency_us']['p50'] / 1000:.2f} ms  p99 {r['latency_us']['p99'] / 1000:.2f} ms"
                    f"  cpu {r['cpu_ms_per_req']:.3f} ms/req  errors {r['non2xx_or_socket_errors']}")
            finally:
                srv.stop()
                RUNNING.remove(srv)
                shutil.rmtree(run_dir, ignore_errors=True)
    out = {}
    for label, rs in results.items():
        out[label] = {"rps": med([r["rps"] for r in rs]),
                      "p50": med([r["latency_us"]["p50"] for r in rs]),
                      "p99": med([r["latency_us"]["p99"] for r in rs]),
                      "cpu_ms": med([r["cpu_ms_per_req"] for r in rs]),
                      "errors": sum(r["non2xx_or_socket_errors"] for r in rs),
                      "runs": [round(r["rps"], 1) for r in rs]}
    return out


def session_lookup_cost(snapshot, iterations=50_000):
    """Times the revocation check's query (sessions by primary key) and, for
    scale, the user lookup every token request also does, on a copy of the
    seeded authgraph database, from Python's sqlite3 (statement cache on)."""
    src = snapshot / "data" / "authgraph.db"
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "a.db"
        shutil.copy(src, db)
        for ext in ("-wal", "-shm"):
            if Path(str(src) + ext).exists():
                shutil.copy(str(src) + ext, str(db) + ext)
        con = sqlite3.connect(db, cached_statements=64)
        sids = [r[0] for r in con.execute("SELECT id FROM sessions")]
        uids = [r[0] for r in con.execute("SELECT id FROM users LIMIT 5000")]
        n_sessions = len(sids)

        def loop(sql, ids):
            t = time.perf_counter()
            for i in range(iterations):
                con.execute(sql, (ids[i % len(ids)],)).fetchone()
            return (time.perf_counter() - t) / iterations

        loop("SELECT 1 WHERE ? IS NOT NULL", sids)
        empty = loop("SELECT 1 WHERE ? IS NOT NULL", sids)
        session = loop("SELECT * FROM sessions WHERE id = ?", sids)
        user = loop("SELECT * FROM users WHERE id = ?", uids)
        plan = " | ".join(r[3] for r in con.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM sessions WHERE id = ?", (sids[0],)))
        con.close()
    return {"sessions_rows": n_sessions, "python_overhead_us": empty * 1e6,
            "session_query_us": (session - empty) * 1e6, "user_query_us": (user - empty) * 1e6,
            "plan": plan}


# --------------------------------------------------------------------------
# Report


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_ms(us):
    return "–" if us is None else (f"{us / 1000:.2f}" if us < 100_000 else f"{us / 1000:.0f}")


def fmt_rate(x):
    return "–" if x is None else (f"{x:,.0f}" if x >= 100 else f"{x:.1f}")


def fmt_mib(kib):
    return "–" if kib is None else f"{kib / 1024:.1f} MiB"


def summarize(rounds):
    """Medians per server and workload over the rounds."""
    out = {}
    for server in ("authgraph", "PocketBase"):
        rs = [r for r in rounds if r["server"] == server]
        s = {"rounds": len(rs), "workloads": {}}
        for key, *_ in WORKLOADS:
            ws = [r["workloads"][key] for r in rs if key in r["workloads"]]
            s["workloads"][key] = {
                "rps": med([w["rps"] for w in ws]),
                "p50": med([w["latency_us"]["p50"] for w in ws]),
                "p99": med([w["latency_us"]["p99"] for w in ws]),
                "errors": sum(w["non2xx_or_socket_errors"] for w in ws),
                "error_kinds": {k: sum(w["errors"][k] for w in ws) for k in
                                ("connect", "read", "write", "status", "timeout")},
                "requests": sum(w["requests"] for w in ws),
                "cpu_ms": med([w["cpu_ms_per_req"] for w in ws]),
                "preflight": [w.get("preflight") for w in ws],
            }
        mixed = [r["mixed"] for r in rs if "mixed" in r]
        s["mixed"] = {
            "read_rps": med([m["read"]["rps"] for m in mixed]),
            "read_p50": med([m["read"]["latency_us"]["p50"] for m in mixed]),
            "read_p99": med([m["read"]["latency_us"]["p99"] for m in mixed]),
            "login_rps": med([m["login"]["rps"] for m in mixed]),
            "login_p99": med([m["login"]["latency_us"]["p99"] for m in mixed]),
            "errors": sum(m["read"]["non2xx_or_socket_errors"] + m["login"]["non2xx_or_socket_errors"]
                          for m in mixed),
            "read_errors": sum(m["read"]["non2xx_or_socket_errors"] for m in mixed),
            "login_timeouts": sum(m["login"]["errors"]["timeout"] for m in mixed),
            "login_errors": sum(m["login"]["non2xx_or_socket_errors"] for m in mixed),
        }
        for k in ("ready_s", "ready2_s", "idle_rss_kib", "peak_rss_kib", "cpu_total_s"):
            s[k] = med([r.get(k) for r in rs])
        s["ready_all"] = [r.get("ready_s") for r in rs] + [r.get("ready2_s") for r in rs]
        out[server] = s
    return out


def describe_errors(w):
    kinds = {"timeout": "timed out (> 10 s)", "status": "non-2xx", "connect": "connect errors",
             "read": "read errors", "write": "write errors"}
    parts = [f"{n} {kinds[k]}" for k, n in w["error_kinds"].items() if n]
    return f"{', '.join(parts)} of {w['requests']:,} answered"


def ratio(a, b):
    return None if not a or not b else a / b


def render(meta, summary, hashes, revocation):
    ag, pb = summary["authgraph"], summary["PocketBase"]
    L = []
    w = L.append
    w(f"Run: **{meta['mode']}** mode, {meta['finished']} · authgraph `{meta['commit']}` · "
      f"PocketBase {meta['pb_version']} · {meta['users']:,} users per server · "
      f"{meta['seconds']} s per workload · {meta['rounds']} round(s), servers alternating · "
      f"wrk {meta['wrk_threads']} threads, 64 connections · {meta['machine']}.")
    w("")
    w(f"Machine: other processes used **{100 * meta['other_cpu_share']:.0f}%** of the CPU time "
      f"during the run (load average {meta['load_start']} at the start, {meta['load_end']} at the end)"
      + (" — **the machine was shared** (other builds and tests were running), so absolute numbers "
         "are noisy; compare the ratios." if meta["shared"] else "."))
    w("")
    w("| workload | authgraph req/s | p50 / p99 ms | CPU ms/req | PocketBase req/s | p50 / p99 ms "
      "| CPU ms/req | authgraph ÷ PocketBase |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, label, *_ in WORKLOADS:
        a, b = ag["workloads"][key], pb["workloads"][key]
        err = ""
        if a["errors"] or b["errors"]:
            err = " (" + "; ".join(f"{n}: {describe_errors(x)}" for n, x in
                                   (("authgraph", a), ("PocketBase", b)) if x["errors"]) + ")"
        r = ratio(a["rps"], b["rps"])
        w(f"| {label}{err} | {fmt_rate(a['rps'])} | {fmt_ms(a['p50'])} / {fmt_ms(a['p99'])} | "
          f"{a['cpu_ms']:.2f} | {fmt_rate(b['rps'])} | {fmt_ms(b['p50'])} / {fmt_ms(b['p99'])} | "
          f"{b['cpu_ms']:.2f} | {'–' if r is None else f'{r:.2f}×'} |")
    am, bm = ag["mixed"], pb["mixed"]
    w(f"| reads during a log-in flood (64 + 64 connections): reads | {fmt_rate(am['read_rps'])} | "
      f"{fmt_ms(am['read_p50'])} / {fmt_ms(am['read_p99'])} | | {fmt_rate(bm['read_rps'])} | "
      f"{fmt_ms(bm['read_p50'])} / {fmt_ms(bm['read_p99'])} | | "
      f"{ratio(am['read_rps'], bm['read_rps']) or 0:.2f}× |")
    flood_err = "; ".join(f"{n}: {x['login_errors']} errors, {x['login_timeouts']} of them time-outs (> 10 s)"
                          for n, x in (("authgraph", am), ("PocketBase", bm)) if x.get("login_errors"))
    w(f"| … and the log-ins of that flood{f' ({flood_err})' if flood_err else ''} | {fmt_rate(am['login_rps'])} | – / {fmt_ms(am['login_p99'])} | | "
      f"{fmt_rate(bm['login_rps'])} | – / {fmt_ms(bm['login_p99'])} | | "
      f"{ratio(am['login_rps'], bm['login_rps']) or 0:.2f}× |")
    w("")
    w("| server | idle RSS | peak RSS (whole round) | start to ready, existing DB (median; all) "
      "| CPU seconds per round |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for name, s in (("authgraph", ag), ("PocketBase", pb)):
        n = len(s["ready_all"]) // 2
        first = ", ".join(f"{x * 1000:.0f}" for x in s["ready_all"][:n] if x is not None)
        after = ", ".join(f"{x * 1000:.0f}" for x in s["ready_all"][n:] if x is not None)
        w(f"| {name} | {fmt_mib(s['idle_rss_kib'])} | {fmt_mib(s['peak_rss_kib'])} | "
          f"{med(s['ready_all']) * 1000:.0f} ms (seeded DB: {first}; after a round: {after} ms) | "
          f"{s['cpu_total_s']:.0f} s |")
    w("")
    a2, bc = hashes["argon2id"], hashes["bcrypt"]
    lim_a, lim_b = a2["limit_per_s"], bc["limit_per_s"]
    w("| server | password hash (from a stored hash) | one verification here | hash limit "
      f"({hashes['cores']} cores ÷ time) | log-in req/s (% of limit) | sign-up req/s (% of limit) |")
    w("| --- | --- | ---: | ---: | ---: | ---: |")
    w(f"| authgraph | argon2id v={a2.get('v')} m={a2.get('m')} t={a2.get('t')} p={a2.get('p')} | "
      f"{a2['verify_s'] * 1000:.1f} ms | {lim_a:.1f}/s | {fmt_rate(ag['workloads']['login']['rps'])} "
      f"({100 * ag['workloads']['login']['rps'] / lim_a:.0f}%) | {fmt_rate(ag['workloads']['signup']['rps'])} "
      f"({100 * ag['workloads']['signup']['rps'] / lim_a:.0f}%) |")
    w(f"| PocketBase | bcrypt cost {bc.get('cost')} (`{bc['prefix']}…`) | {bc['verify_s'] * 1000:.1f} ms | "
      f"{lim_b:.1f}/s | {fmt_rate(pb['workloads']['login']['rps'])} "
      f"({100 * pb['workloads']['login']['rps'] / lim_b:.0f}%) | {fmt_rate(pb['workloads']['signup']['rps'])} "
      f"({100 * pb['workloads']['signup']['rps'] / lim_b:.0f}%) |")
    w("")
    w("The hash time is one verification of the stored hash measured from Python on this machine "
      "(argon2-cffi's C reference code, Python bcrypt); each server uses its own implementation "
      "(Rust `argon2`, Go `x/crypto/bcrypt`), so a server can land above or below 100%. "
      f"authgraph's whole log-in costs {ag['workloads']['login']['cpu_ms']:.1f} CPU ms "
      f"(hash, HTTP, session insert), so its own ceiling here is {hashes['cores']} cores ÷ that = "
      f"{1000 * hashes['cores'] / ag['workloads']['login']['cpu_ms']:.1f}/s, of which it reached "
      f"{100 * ag['workloads']['login']['rps'] * ag['workloads']['login']['cpu_ms'] / 1000 / hashes['cores']:.0f}% "
      "while sharing the cores with wrk. (PocketBase's CPU per log-in is inflated by the requests "
      "it was still hashing when wrk stopped or gave up.)")
    w("")
    # Targets.
    rd_a, rd_b = ag["workloads"]["read"], pb["workloads"]["read"]
    ls_a, ls_b = ag["workloads"]["list_total"], pb["workloads"]["list_total"]
    lk_a, lk_b = ag["workloads"]["list_skip"], pb["workloads"]["list_skip"]
    login_pct = 100 * ag["workloads"]["login"]["rps"] / lim_a
    targets = [
        ("current-user read ≥ 3× PocketBase at 64 connections",
         f"{ratio(rd_a['rps'], rd_b['rps']):.2f}×", ratio(rd_a["rps"], rd_b["rps"]) >= 3),
        ("… with p99 < 5 ms", f"p99 {fmt_ms(rd_a['p99'])} ms", rd_a["p99"] < 5000),
        ("log-in ≥ 90% of the argon2id limit", f"{login_pct:.0f}% ({fmt_rate(ag['workloads']['login']['rps'])} of {lim_a:.1f}/s)",
         login_pct >= 90),
        ("reads' p99 < 20 ms during a log-in flood", f"p99 {fmt_ms(am['read_p99'])} ms",
         am["read_p99"] is not None and am["read_p99"] < 20000),
        (f"filtered list on {meta['users']:,} users ≥ 2× PocketBase (with total)",
         f"{ratio(ls_a['rps'], ls_b['rps']):.2f}×", ratio(ls_a["rps"], ls_b["rps"]) >= 2),
        (f"filtered list on {meta['users']:,} users ≥ 2× PocketBase (`skipTotal=1`)",
         f"{ratio(lk_a['rps'], lk_b['rps']):.2f}×", ratio(lk_a["rps"], lk_b["rps"]) >= 2),
        ("idle RSS ≤ PocketBase's", f"{fmt_mib(ag['idle_rss_kib'])} vs {fmt_mib(pb['idle_rss_kib'])}",
         ag["idle_rss_kib"] <= pb["idle_rss_kib"]),
        ("start to ready < 200 ms on an existing database",
         f"{med(ag['ready_all']) * 1000:.0f} ms (max {max(x for x in ag['ready_all'] if x) * 1000:.0f} ms)",
         med(ag["ready_all"]) < 0.2),
    ]
    w("| target (authgraph) | measured | |")
    w("| --- | --- | --- |")
    for name, val, ok in targets:
        w(f"| {name} | {val} | {'met' if ok else '**missed**'} |")
    w("")
    if revocation:
        read_cpu = ag["workloads"]["read"]["cpu_ms"]
        health_cpu = ag["workloads"]["health"]["cpu_ms"]
        w("### Cost of the revocation check")
        w("")
        w("| measurement | value |")
        w("| --- | --- |")
        ab = revocation.get("ab")
        if ab:
            a, b = ab["with"], ab["without"]
            w(f"| current-user read, 64 connections, default (session and user cached ≤ 1 s, invalidated on revocation) | {fmt_rate(a['rps'])} req/s, "
              f"p50 {fmt_ms(a['p50'])} / p99 {fmt_ms(a['p99'])} ms, {a['cpu_ms']:.3f} CPU ms/req "
              f"(runs: {', '.join(str(x) for x in a['runs'])}) |")
            w(f"| the same with `AUTHGRAPH_AUTH_CACHE_MS=0`: the session and user queried on every request | {fmt_rate(b['rps'])} req/s, "
              f"p50 {fmt_ms(b['p50'])} / p99 {fmt_ms(b['p99'])} ms, {b['cpu_ms']:.3f} CPU ms/req "
              f"(runs: {', '.join(str(x) for x in b['runs'])}) |")
            w(f"| cost of querying instead of caching | {100 * (1 - b['rps'] / a['rps']):.0f}% of the read throughput; "
              f"{b['cpu_ms'] - a['cpu_ms']:+.3f} CPU ms and {(b['p50'] - a['p50']) / 1000:+.2f} ms p50 per request |")
        sq = revocation.get("sqlite")
        if sq:
            w(f"| the session lookup as SeaORM sends it, SQLite {sq['sqlite_version']} "
              f"(`SELECT … FROM sessions WHERE id = ? LIMIT ?`, {sq['sessions_rows']:,} sessions) | "
              f"{sq['session_limit_param_us']:.1f} µs; re-prepared on {sq['session_limit_param_reprepares']:,} "
              f"of {sq['iterations']:,} executions |")
            w(f"| the same lookup without the bound `LIMIT ?` | {sq['session_plain_us']:.1f} µs; "
              f"re-prepared {sq['session_plain_reprepares']} times |")
            w(f"| for scale: the user lookup (`… WHERE id = ? AND project_id = ? LIMIT ?`) | "
              f"{sq['user_limit_param_us']:.1f} µs ({sq['user_plain_us']:.1f} µs without the bound LIMIT) |")
        w(f"| CPU per current-user read vs the token-less `GET /api/health` (main table) | "
          f"{read_cpu:.3f} vs {health_cpu:.3f} CPU ms/req |")
        w("")
    # Preflight anomalies.
    bad = []
    for name, s in (("authgraph", ag), ("PocketBase", pb)):
        for key, *_ in WORKLOADS:
            for p in s["workloads"][key]["preflight"]:
                if p and p.get("status") not in (200,):
                    bad.append(f"- {name} `{key}`: HTTP {p.get('status')} {p.get('sample', p.get('error'))}")
    if bad:
        w("Unexpected answers to the single check request before a workload:")
        w("")
        L.extend(sorted(set(bad)))
        w("")
    return "\n".join(L)


BEGIN = "<!-- bench:results:begin (written by bench/run.sh) -->"
END = "<!-- bench:results:end -->"


def write_benchmarks(md_path, block):
    text = md_path.read_text() if md_path.exists() else (
        "# Benchmarks\n\nauthgraph and PocketBase side by side; see `bench/run.sh`.\n\n"
        f"{BEGIN}\n{END}\n")
    if BEGIN not in text or END not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    md_path.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}")


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, default="quick")
    ap.add_argument("--authgraph", required=True)
    ap.add_argument("--pocketbase", required=True)
    ap.add_argument("--users", type=int)
    ap.add_argument("--seconds", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--write", choices=["auto", "yes", "no"], default="auto",
                    help="update BENCHMARKS.md (auto: full mode only)")
    ap.add_argument("--shared", action="store_true", help="say the machine was shared")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--sqlite-cost", help="bench/sqlite_cost.c built against authgraph's SQLite")
    ap.add_argument("--revocation-ab", action="store_true",
                    help="compare current-user reads with the auth cache (default) and without it")
    ap.add_argument("--only", help="run only these workloads (comma-separated keys, `mixed` "
                    "for the flood); prints its own table, leaves BENCHMARKS.md alone")
    ap.add_argument("--connections", type=int, help="connections of every workload run")
    ap.add_argument("--limits", choices=["on", "off"], default="off",
                    help="authgraph's per-address limits and lockout at their defaults (on)")
    ap.add_argument("--matrix", action="store_true",
                    help="also time the matrix of list queries on both servers, one connection")
    ap.add_argument("--render", help="re-render a results JSON (bench/results/*.json) and exit")
    if "--render" in sys.argv:
        ap.set_defaults(authgraph="", pocketbase="")
        for a in ap._actions:
            if a.dest in ("authgraph", "pocketbase"):
                a.required = False
    args = ap.parse_args()
    if args.render:
        raw = json.loads(Path(args.render).read_text())
        block = render(raw["meta"], summarize(raw["rounds"]), raw["hashes"], raw["revocation"])
        if args.write == "yes":
            write_benchmarks(ROOT / "BENCHMARKS.md", block)
        print(block)
        return
    global ONLY, CONNECTIONS, MATRIX_ON
    ONLY = set(args.only.split(",")) if args.only else None
    CONNECTIONS = args.connections
    MATRIX_ON = args.matrix
    cfg = dict(MODES[args.mode])
    for k in ("users", "seconds", "rounds"):
        if getattr(args, k):
            cfg[k] = getattr(args, k)

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(143)))
    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="authgraph-bench-"))
    log(f"mode {args.mode}: {cfg}; work dir {work}; load {loadavg()}")
    load_start = loadavg()
    usage_start = machine_usage()
    # The set-up (64 log-ins from one address) runs without limits; the
    # rounds with them when asked.
    kinds = [AuthgraphKind(args.authgraph), PocketBaseKind(args.pocketbase)]
    try:
        snaps, facts = {}, {}
        for k in kinds:
            snaps[k.name], facts[k.name] = build_snapshot(k, work, cfg["users"])
        log("timing one verification of each stored hash")
        hashes = hash_facts(facts["authgraph"]["hash"], facts["PocketBase"]["hash"],
                            samples=15 if args.mode == "quick" else 40)
        log(f"  argon2id {hashes['argon2id']['verify_s'] * 1000:.1f} ms, bcrypt "
            f"{hashes['bcrypt']['verify_s'] * 1000:.1f} ms")
        kinds[0].limits = args.limits == "on"
        revocation = {"python": session_lookup_cost(snaps["authgraph"])}
        rounds = []
        for rnd in range(cfg["rounds"]):
            order = kinds if rnd % 2 == 0 else kinds[::-1]
            for k in order:
                log(f"round {rnd + 1}/{cfg['rounds']}: {k.name} (load {loadavg()})")
                rounds.append(run_round(k, snaps[k.name], work, rnd, cfg, cfg["users"],
                                        sqlite_cost=args.sqlite_cost))
        costs = [r["sqlite_cost"] for r in rounds if r.get("sqlite_cost")]
        if costs:
            revocation["sqlite"] = costs[-1]
            revocation["sqlite_all"] = costs
            c = costs[-1]
            log(f"  SQLite {c['sqlite_version']}: session lookup {c['session_limit_param_us']:.1f} µs "
                f"as sent (LIMIT ?, {c['session_limit_param_reprepares']} re-prepares), "
                f"{c['session_plain_us']:.1f} µs without the bound LIMIT")
        if args.revocation_ab:
            log("A/B: current-user reads with the auth cache and with AUTHGRAPH_AUTH_CACHE_MS=0")
            revocation["ab"] = ab_revocation(args.authgraph, snaps["authgraph"],
                                             work, cfg)
    finally:
        stop_all()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if ONLY is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        block = (f"{args.mode}, {cfg['users']} users, {cfg['seconds']} s, {cfg['rounds']} round(s), "
                 f"limits {args.limits}; load {load_start} at the start, {loadavg()} at the end\n\n"
                 + render_partial(rounds))
        raw = {"config": cfg, "args": vars(args), "load": [load_start, loadavg()], "rounds": rounds}
        (RESULTS / f"partial-{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
        (RESULTS / f"partial-{stamp}.md").write_text(block + "\n")
        print(block)
        log(f"results: {RESULTS / f'partial-{stamp}.md'}")
        return
    summary = summarize(rounds)
    load_end = loadavg()
    usage = machine_usage(usage_start)
    pb_version = subprocess.run([args.pocketbase, "--version"], capture_output=True,
                                text=True).stdout.split()[-1]
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src",
                            "Cargo.toml", "Cargo.lock", "migration", "entity"],
                           capture_output=True, text=True).stdout.strip()
    cpu_model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    meta = {
        "mode": args.mode, "users": cfg["users"], "seconds": cfg["seconds"],
        "rounds": cfg["rounds"], "wrk_threads": 2,
        "finished": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + ("+local changes" if dirty else ""), "pb_version": pb_version,
        "machine": f"{os.cpu_count()} cores ({cpu_model}), "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "load_start": load_start, "load_end": load_end,
        "other_cpu_share": usage,
        "shared": args.shared or usage > 0.10,
    }
    block = render(meta, summary, hashes, revocation)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    raw = {"meta": meta, "config": cfg, "setup": facts, "hashes": hashes,
           "revocation": revocation, "rounds": rounds, "summary": summary}
    (RESULTS / f"{args.mode}-{stamp}.json").write_text(json.dumps(raw, indent=1, default=str))
    (RESULTS / f"{args.mode}-latest.md").write_text(block + "\n")
    write = args.write == "yes" or (args.write == "auto" and args.mode == "full")
    if write:
        write_benchmarks(ROOT / "BENCHMARKS.md", block)
        log("BENCHMARKS.md updated")
    print()
    print(block)
    log(f"results: {RESULTS / f'{args.mode}-{stamp}.json'}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
