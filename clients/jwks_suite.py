"""Tokens other services can verify: an access token checked by an independent
library (PyJWT with `cryptography`) using only the published JWKS, found
through the discovery document; then `authgraph keys rotate`: new tokens carry
the new key, the older token still verifies and still works until it expires.

Environment: BASE_URL (no trailing slash), PK (publishable key),
AUTHGRAPH_CLI (runs the authgraph binary on the server's database).
Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
"""
import json
import os
import subprocess
import time
import urllib.request
import uuid

import jwt

from harness import CheckFailed, check, expect, expect_eq, finish, gql

BASE_URL = os.environ["BASE_URL"].rstrip("/")
PK = os.environ["PK"]
CLI = os.environ["AUTHGRAPH_CLI"]
RUN = uuid.uuid4().hex[:12]
EMAIL = f"jwks-{RUN}@example.com"
PASSWORD = "jwks-password-1"


class State(dict):
    def __missing__(self, key):
        raise CheckFailed(f"skipped: needs `{key}` from an earlier check that failed")


S = State()


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as res:
        return json.load(res)


def log_in():
    reply = gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
        {"i": {"email": EMAIL, "password": PASSWORD}},
    )
    expect(not reply.get("errors"), f"logIn: {reply.get('errors')!r}")
    return reply["data"]["logIn"]["token"]


def verify(token):
    """PyJWT alone: the key from the JWKS the discovery document names."""
    keys = jwt.PyJWKClient(S["jwks_uri"], cache_keys=False)
    key = keys.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=S["issuer"])


def discovery():
    doc = get_json(f"{BASE_URL}/.well-known/openid-configuration")
    S["issuer"] = doc["issuer"]
    S["jwks_uri"] = doc["jwks_uri"]
    expect(S["jwks_uri"].endswith("/.well-known/jwks.json"), f"jwks_uri {S['jwks_uri']}")


def sign_up_and_verify():
    reply = gql(
        "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }",
        {"i": {"email": EMAIL, "password": PASSWORD}},
    )
    expect(not reply.get("errors"), f"signUp: {reply.get('errors')!r}")
    token = reply["data"]["signUp"]["token"]
    claims = verify(token)
    expect_eq(claims["sub"], reply["data"]["signUp"]["user"]["id"], "sub")
    expect_eq(jwt.get_unverified_header(token)["alg"], "EdDSA", "alg")
    S["old"] = token


def tampered_is_refused():
    head, body, sig = S["old"].split(".")
    other = jwt.utils.base64url_encode(json.dumps({"sub": "someone-else"}).encode()).decode()
    try:
        verify(f"{head}.{other}.{sig}")
    except jwt.InvalidSignatureError:
        return
    raise CheckFailed("a tampered token verified")


def rotation():
    old_kid = jwt.get_unverified_header(S["old"])["kid"]
    subprocess.run([CLI, "keys", "rotate"], check=True, capture_output=True, timeout=60)
    # The running server re-reads its keys every few seconds.
    deadline = time.monotonic() + 30
    while True:
        token = log_in()
        if jwt.get_unverified_header(token)["kid"] != old_kid:
            break
        expect(time.monotonic() < deadline, "the server still signs with the old key after 30 s")
        time.sleep(1)
    verify(token)
    kids = {k["kid"] for k in get_json(S["jwks_uri"])["keys"]}
    expect(old_kid in kids and len(kids) >= 2, f"published kids {kids}")
    # The older token: still verifiable with the JWKS and still accepted.
    verify(S["old"])
    me = gql("{ me { email } }", token=S["old"])
    expect_eq((me.get("data") or {}).get("me", {}).get("email"), EMAIL, "me with the older token")


check("the discovery document names the issuer and the JWKS", discovery)
check("PyJWT verifies an access token with only the published JWKS", sign_up_and_verify)
check("a tampered token fails PyJWT's signature check", tampered_is_refused)
check("after `authgraph keys rotate` older tokens still verify and work", rotation)
finish()
