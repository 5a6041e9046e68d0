#!/usr/bin/env bash
# SMTP down for 60 s: authgraph starts with its SMTP server unreachable, 20
# password-reset mails are requested, aiosmtpd starts 60 s later; prints mails
# sent, delivered, duplicates and the delay after recovery, once with the
# default retry cap (AUTHGRAPH_MAIL_RETRY_MAX_SECS=300) and once with 10 s.
#
#   bash bench/faults_smtp.sh        (AUTHGRAPH_BIN picks the binary;
#                                     OUTAGE_SECS and MAILS change the run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${AUTHGRAPH_BIN:-target/release/authgraph}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  cargo build --release --locked
fi
PY="$ROOT/clients/.venv/bin/python"
if [[ ! -x "$PY" ]]; then
  python3 -m venv "$ROOT/clients/.venv"
fi
"$PY" -m pip install -q --disable-pip-version-check aiosmtpd==1.4.6
for cap in 300 10; do
  echo "== SMTP down ${OUTAGE_SECS:-60} s, AUTHGRAPH_MAIL_RETRY_MAX_SECS=$cap"
  AUTHGRAPH_BIN="$BIN" AUTHGRAPH_MAIL_RETRY_MAX_SECS="$cap" "$PY" clients/smtp_outage.py \
    --outage-secs "${OUTAGE_SECS:-60}" --mails "${MAILS:-20}" --report
done
