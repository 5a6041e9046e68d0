"""The mail outbox against a real SMTP server (aiosmtpd): authgraph starts
with its SMTP URL on a port where nothing listens, password-reset mails are
requested through PocketBase's door, the SMTP server starts `--outage-secs`
later, and each mail must arrive exactly once.

Runs its own authgraph (AUTHGRAPH_BIN) on a fresh SQLite database in a temp
dir, so no other server's worker delivers its mail. `--report` prints the
figures as a Markdown table (bench/faults_smtp.sh).

    python clients/smtp_outage.py [--outage-secs 10] [--mails 5] [--report]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, expect, expect_eq, finish  # noqa: E402

args = argparse.ArgumentParser()
args.add_argument("--outage-secs", type=float, default=10)
args.add_argument("--mails", type=int, default=5)
args.add_argument("--report", action="store_true")
opts = args.parse_args()

BIN = os.environ.get("AUTHGRAPH_BIN", "target/debug/authgraph")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    """Every message the SMTP server accepts: (recipient, subject, when)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []

    async def handle_DATA(self, server, session, envelope):
        text = envelope.content.decode("utf-8", "replace")
        subject = re.search(r"^Subject: (.*)$", text, re.M)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.got.append((rcpt, subject.group(1).strip() if subject else "", time.time()))
        return "250 OK"

    def snapshot(self):
        with self.lock:
            return list(self.got)


def post(base, path, body):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


tmp = tempfile.mkdtemp(prefix="authgraph-smtp-outage.")
smtp_port = free_port()
env = {
    k: v
    for k, v in os.environ.items()
    if k not in ("DATABASE_URL", "AUTHGRAPH_DATABASE_URL", "AUTHGRAPH_CONFIG")
}
env.update(
    AUTHGRAPH_DATA_DIR=os.path.join(tmp, "data"),
    AUTHGRAPH_ADDR="127.0.0.1:0",
    AUTHGRAPH_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
    AUTHGRAPH_MAIL_FROM="authgraph <no-reply@example.com>",
    AUTHGRAPH_SIGNUP_LIMIT_PER_IP="100000",
    AUTHGRAPH_LOGIN_LIMIT_PER_IP="100000",
    AUTHGRAPH_MAIL_CODE_LIMIT_PER_IP="100000",
)
server_err = open(os.path.join(tmp, "server.err"), "w")
server = subprocess.Popen(
    [BIN, "serve"], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=server_err, text=True
)
base = None
for line in server.stdout:
    m = re.match(r"authgraph listening on (http://\S+)", line)
    if m:
        base = m.group(1).rstrip("/")
        break
if base is None:
    print("FAIL - the server did not start; see", server_err.name)
    sys.exit(1)
# Keep reading stdout so the server never blocks on a full pipe.
threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()

recorder = Recorder()
controller = None
figures = {}
emails = [f"outage{i}@example.com" for i in range(opts.mails)]


def sign_up_and_request():
    for email in emails:
        status, body = post(
            base,
            "/api/collections/users/records",
            {"email": email, "password": "correct horse battery", "passwordConfirm": "correct horse battery"},
        )
        expect(status == 200, f"sign-up {email}: {status} {body[:200]!r}")
    started = time.time()
    for email in emails:
        status, body = post(base, "/api/collections/users/request-password-reset", {"email": email})
        expect_eq(status, 204, f"request-password-reset {email}")
    figures["sent"] = len(emails)
    figures["requested_at"] = started


def nothing_arrives_while_smtp_is_down():
    # Nothing listens: every attempt fails; the outbox keeps the mails.
    time.sleep(opts.outage_secs)
    expect_eq(recorder.snapshot(), [], "mail received while SMTP was down")


def each_mail_arrives_once_after_smtp_recovers():
    global controller
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    recovered = time.time()
    figures["recovered_at"] = recovered
    deadline = recovered + max(60, 2 * opts.outage_secs)
    while time.time() < deadline and len({r for r, _, _ in recorder.snapshot()}) < len(emails):
        time.sleep(0.2)
    # A little longer: a duplicate would show now.
    time.sleep(3)
    got = recorder.snapshot()
    figures["delivered"] = len({r for r, _, _ in got})
    figures["duplicates"] = len(got) - figures["delivered"]
    if got:
        figures["first_after_recovery"] = min(t for _, _, t in got) - recovered
        figures["last_after_recovery"] = max(t for _, _, t in got) - recovered
    expect_eq(sorted(r for r, _, _ in got), sorted(emails), "recipients, each once")
    expect(all(s == "Reset your password" for _, s, _ in got), f"subjects: {got}")


def the_server_logged_retries():
    with open(server_err.name) as f:
        log = f.read()
    expect("mail_retry" in log, "no retry in the server's log")
    figures["retries_logged"] = log.count("mail_retry")


try:
    check("sign-ups and password-reset requests through PocketBase's door", sign_up_and_request)
    check(f"nothing arrives while SMTP is down ({opts.outage_secs:g} s)", nothing_arrives_while_smtp_is_down)
    check("each mail arrives exactly once after SMTP recovers", each_mail_arrives_once_after_smtp_recovers)
    check("the server logged its retries", the_server_logged_retries)
finally:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    if controller is not None:
        controller.stop()

if opts.report:
    f = figures
    print()
    print(f"| SMTP down | mails sent | delivered | duplicates | first after recovery | last after recovery | retries logged |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {opts.outage_secs:g} s | {f.get('sent', 0)} | {f.get('delivered', 0)} | {f.get('duplicates', 0)} "
        f"| {f.get('first_after_recovery', float('nan')):.1f} s | {f.get('last_after_recovery', float('nan')):.1f} s "
        f"| {f.get('retries_logged', 0)} |"
    )
finish()
