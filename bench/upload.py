#!/usr/bin/env python3
"""Uploads and downloads of 50 MiB files: authgraph (local disk, and S3 on a moto
server) beside PocketBase 0.40.6 (local disk, and the same moto server when its
S3 settings take), through the same PocketBase-style requests
(`PATCH /api/collections/users/records/{id}` multipart with an `avatar` part,
`GET /api/files/users/{id}/{name}`), sent by curl. authgraph's GraphQL
multipart upload (`updateMe` with a `FileUpload`) is timed too.

Throughput: the median of --repeat sequential uploads (each replaces the last)
and downloads, in MiB/s. Memory: on a freshly started server, VmRSS idle, then
sampled every 5 ms during --concurrent simultaneous uploads (and VmHWM after);
the peak minus idle, and that divided by the number of uploads.

Run by bench/upload.sh, which builds the release binary and the venvs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (  # noqa: E402  (bench.py is the side-by-side harness)
    ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, RUNNING, AuthgraphKind, PocketBaseKind,
    admin_login, free_port, http, loadavg, log, machine_usage, must, status_kib, stop_all)

MIB = 1024 * 1024


def project_toml(size):
    return ('[project]\nslug = "default"\nname = "Default"\n\n'
            '[[collections]]\nname = "users"\n\n'
            f'[[collections.fields]]\nname = "avatar"\ntype = "file"\nmax_size = {size}\n')


class Authgraph(AuthgraphKind):
    def prepare(self, data, port, logfile, size):
        data.mkdir(parents=True)
        project = data.parent / "authgraph-project.toml"
        project.write_text(project_toml(size))
        self.cli(data, "apply", str(project))
        return self.server(data, port, logfile)


class PocketBase(PocketBaseKind):
    def configure(self, port, size, s3):
        """The `avatar` field of `users` takes one file of any type up to `size`;
        with `s3`, files go to that bucket. Returns whether S3 took."""
        token = admin_login(port)
        auth = {"Authorization": token}
        st, coll = http(port, "GET", "/api/collections/users", headers=auth)
        must(st == 200, "PocketBase: reading users", st, coll)
        for f in coll["fields"]:
            if f["name"] == "avatar":
                f["maxSize"] = size
                f["mimeTypes"] = []
        st, out = http(port, "PATCH", "/api/collections/users", {"fields": coll["fields"]},
                       headers=auth)
        must(st == 200, "PocketBase: raising avatar's maxSize", st, out)
        if not s3:
            return False
        body = {"s3": {"enabled": True, "bucket": s3["bucket"], "region": "us-east-1",
                       "endpoint": s3["endpoint"], "accessKey": "testing",
                       "secret": "testing", "forcePathStyle": True}}
        st, out = http(port, "PATCH", "/api/settings", body, headers=auth)
        if st != 200:
            log(f"PocketBase did not take the S3 settings: {st} {out}")
            return False
        return True


MOTO: list[subprocess.Popen] = []


def start_moto(binary, work, bucket):
    """moto's S3 server on a free port (a child, so its CPU counts as this
    run's), with the bucket; returns its endpoint."""
    port = free_port()
    log_file = open(work / "moto.log", "wb")
    MOTO.append(subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                                 stdout=log_file, stderr=subprocess.STDOUT))
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            code, _, _ = curl(["-X", "PUT", f"{endpoint}/{bucket}"], timeout=5)
            if code == 200:
                return endpoint
        except RuntimeError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"moto did not start; see {work / 'moto.log'}")


def curl(args, timeout=600):
    """Runs curl; returns (status, seconds, body)."""
    with tempfile.NamedTemporaryFile() as out:
        cmd = ["curl", "-sS", "-o", out.name, "-w", "%{http_code} %{time_total}",
               "--max-time", str(timeout), *args]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"curl failed ({res.returncode}): {res.stderr.strip()}")
        code, secs = res.stdout.split()
        body = Path(out.name).read_bytes()
    return int(code), float(secs), body


def users(port, n):
    """Creates n users; returns [(id, token)]."""
    out = []
    for i in range(n):
        email = f"up{i}@bench.local"
        st, rec = http(port, "POST", "/api/collections/users/records",
                       {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD})
        must(st == 200, "creating a user", st, rec)
        st, auth = http(port, "POST", "/api/collections/users/auth-with-password",
                        {"identity": email, "password": PASSWORD})
        must(st == 200, "logging in", st, auth)
        out.append((rec["id"], auth["token"]))
    return out


def upload(port, user, path):
    uid, token = user
    code, secs, body = curl(["-X", "PATCH", "-H", f"Authorization: {token}",
                             "-F", f"avatar=@{path};type=application/pdf",
                             f"http://127.0.0.1:{port}/api/collections/users/records/{uid}"])
    if code != 200:
        raise RuntimeError(f"upload answered {code}: {body[:300]!r}")
    return secs, json.loads(body)["avatar"]


def upload_graphql(port, token, path):
    q = ("mutation($i: UpdateMeInput!) { updateMe(input: $i) { files { name size } } }")
    ops = json.dumps({"query": q, "variables": {"i": {"files": [{"field": "avatar",
                                                                  "file": None}]}}})
    code, secs, body = curl(["-H", f"Authorization: Bearer {token}",
                             "-F", f"operations={ops}",
                             "-F", 'map={"0": ["variables.i.files.0.file"]}',
                             "-F", f"0=@{path};type=application/pdf",
                             f"http://127.0.0.1:{port}/graphql"])
    out = json.loads(body)
    if code != 200 or out.get("errors"):
        raise RuntimeError(f"GraphQL upload answered {code}: {body[:300]!r}")
    return secs


def download(port, user, name, size):
    uid, _ = user
    code, secs, body = curl([f"http://127.0.0.1:{port}/api/files/users/{uid}/{name}"])
    if code != 200 or len(body) != size:
        raise RuntimeError(f"download answered {code} with {len(body)} bytes")
    return secs


def rate(size, secs):
    return size / MIB / secs


def throughput(port, user, path, size, repeat, token_graphql=None):
    ups, downs, name = [], [], None
    for _ in range(repeat):
        secs, name = upload(port, user, path)
        ups.append(rate(size, secs))
    for _ in range(repeat):
        downs.append(rate(size, download(port, user, name, size)))
    res = {"upload": ups, "download": downs}
    if token_graphql:
        res["graphql_upload"] = [rate(size, upload_graphql(port, token_graphql, path))
                                 for _ in range(repeat)]
    return res


def memory(server, port, people, path):
    """Idle VmRSS, then VmRSS sampled while every user uploads at once."""
    pid = server.pid
    time.sleep(1.0)
    idle = status_kib(pid, "VmRSS")
    peak = [idle]
    done = threading.Event()

    def sample():
        while not done.is_set():
            v = status_kib(pid, "VmRSS")
            if v:
                peak[0] = max(peak[0], v)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    errors = []

    def one(u):
        try:
            upload(port, u, path)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(str(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(u,)) for u in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    hwm = status_kib(pid, "VmHWM")
    if errors:
        raise RuntimeError(f"concurrent uploads failed: {errors[:3]}")
    top = max(peak[0], hwm or 0)
    return {"idle_kib": idle, "peak_kib": top, "sampled_peak_kib": peak[0], "hwm_kib": hwm,
            "per_upload_kib": (top - idle) / len(people), "wall_s": wall,
            "aggregate_mib_s": len(people) * os.path.getsize(path) / MIB / wall}


def run_one(kind, label, work, size, path, args, s3=None, graphql=False):
    """One server: memory on a fresh start, then throughput. None if S3 did not take."""
    data = work / f"{label}-data"
    port = free_port()
    logfile = work / f"{label}.log"
    if isinstance(kind, Authgraph):
        server = kind.prepare(data, port, logfile, size)
    else:
        server = kind.prepare(data, port, logfile)
    RUNNING.append(server)
    server.start()
    if isinstance(kind, PocketBase):
        took = kind.configure(port, size, s3)
        if s3 and not took:
            server.stop()
            return None
    people = users(port, args.concurrent + 1)
    log(f"{label}: {args.concurrent} concurrent uploads")
    mem = memory(server, port, people[1:], path)
    log(f"{label}: {args.repeat}× upload and download")
    token = people[0][1] if graphql else None
    res = throughput(port, people[0], path, size, args.repeat, token)
    res["memory"] = mem
    server.stop()
    return res


def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x):
    return "–" if x is None else f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def mib(kib):
    return f"{kib / 1024:,.1f} MiB"


def render(meta, results):
    ag, pb = results["authgraph local"], results["PocketBase local"]
    ags3, pbs3 = results.get("authgraph S3"), results.get("PocketBase S3")
    lines = []
    w = lines.append
    w(f"{meta['date']}, {meta['size_mib']} MiB files, medians of {meta['repeat']} "
      f"(release build; load average before {meta['load_before']}, other processes used "
      f"{meta['other_cpu']:.0%} of the CPU during the run).")
    w("")
    w("| | authgraph | PocketBase 0.40.6 | ratio |")
    w("| --- | ---: | ---: | ---: |")

    def row(what, a, b):
        ratio = f"{a / b:.2f}×" if a and b else "–"
        w(f"| {what} | {fmt(a)} MiB/s | {fmt(b)} MiB/s | {ratio} |")

    row("upload, local disk (PocketBase record update)", med(ag["upload"]), med(pb["upload"]))
    row("download, local disk", med(ag["download"]), med(pb["download"]))
    if ags3:
        row("upload, S3 (moto)", med(ags3["upload"]), med(pbs3["upload"]) if pbs3 else None)
        row("download, S3 (moto)", med(ags3["download"]),
            med(pbs3["download"]) if pbs3 else None)
    if ag.get("graphql_upload"):
        w(f"| upload, local disk, GraphQL multipart (`updateMe`) | "
          f"{fmt(med(ag['graphql_upload']))} MiB/s | (no GraphQL) | |")
    w("")
    w(f"Memory during {meta['concurrent']} concurrent {meta['size_mib']} MiB uploads "
      "(fresh server; VmRSS idle, then sampled every 5 ms, and VmHWM):")
    w("")
    w("| | idle RSS | peak RSS | peak − idle | per upload | aggregate |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, r in results.items():
        if not r:
            continue
        m = r["memory"]
        w(f"| {label} | {mib(m['idle_kib'])} | {mib(m['peak_kib'])} | "
          f"{mib(m['peak_kib'] - m['idle_kib'])} | {mib(m['per_upload_kib'])} | "
          f"{m['aggregate_mib_s']:,.0f} MiB/s |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--authgraph", required=True)
    ap.add_argument("--pocketbase", required=True)
    ap.add_argument("--moto", default="", help="moto_server, started on a free port for S3")
    ap.add_argument("--s3-bucket", default="bench-uploads")
    ap.add_argument("--size-mib", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--concurrent", type=int, default=8)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    size = args.size_mib * MIB
    work = Path(tempfile.mkdtemp(prefix="authgraph-upload-bench-"))
    path = work / "upload.pdf"
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7\n")
        f.write(os.urandom(size - 9))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "size_mib": args.size_mib, "repeat": args.repeat,
            "concurrent": args.concurrent, "load_before": loadavg()}
    usage = machine_usage()
    results = {}
    try:
        ag = Authgraph(args.authgraph)
        pb = PocketBase(args.pocketbase)
        results["authgraph local"] = run_one(ag, "authgraph-local", work, size, path, args,
                                             graphql=True)
        results["PocketBase local"] = run_one(pb, "pocketbase-local", work, size, path, args)
        if args.moto:
            endpoint = start_moto(args.moto, work, args.s3_bucket)
            s3 = {"endpoint": endpoint, "bucket": args.s3_bucket}
            ag_s3 = Authgraph(args.authgraph, {
                "AUTHGRAPH_STORAGE": "s3", "AUTHGRAPH_S3_BUCKET": args.s3_bucket,
                "AUTHGRAPH_S3_ENDPOINT": endpoint, "AUTHGRAPH_S3_REGION": "us-east-1",
                "AUTHGRAPH_S3_ACCESS_KEY_ID": "testing",
                "AUTHGRAPH_S3_SECRET_ACCESS_KEY": "testing", "AUTHGRAPH_S3_PATH_STYLE": "true"})
            results["authgraph S3"] = run_one(ag_s3, "authgraph-s3", work, size, path, args)
            results["PocketBase S3"] = run_one(pb, "pocketbase-s3", work, size, path, args, s3=s3)
    finally:
        stop_all()
        for p in MOTO:
            p.terminate()
            p.wait()
    meta["other_cpu"] = machine_usage(usage)
    meta["load_after"] = loadavg()
    text = render(meta, results)
    print(text)
    raw = {"meta": meta, "results": results}
    if args.out:
        Path(args.out).write_text(json.dumps(raw, indent=1))
        Path(args.out).with_suffix(".md").write_text(text + "\n")
    path.unlink()


if __name__ == "__main__":
    main()
