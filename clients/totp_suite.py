"""Authenticator-app second factor (TOTP) through GraphQL, with codes computed
by an independent implementation (pyotp, RFC 6238), against authgraph.

Environment: BASE_URL (no trailing slash), PK (publishable key).
Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
Exits 1 when any check failed.
"""
import json
import os
import time
import urllib.parse
import urllib.request
import uuid

import pyotp

from harness import CheckFailed, check, expect, expect_eq, finish, gql

BASE_URL = os.environ["BASE_URL"].rstrip("/")
PK = os.environ["PK"]

# --------------------------------------------------------------------- harness
class State(dict):
    """State shared between checks; a missing key means an earlier check failed."""

    def __missing__(self, key):
        raise CheckFailed(f"skipped: needs `{key}` from an earlier check that failed")


S = State()


def data_of(reply, field):
    expect(not reply.get("errors"), f"{field}: errors {reply.get('errors')!r}")
    return reply["data"][field]


def error_code(reply):
    errors = reply.get("errors") or [{}]
    return (errors[0].get("extensions") or {}).get("code")


def fresh_code(totp, used):
    """The current code of `totp` once it differs from every code in `used`
    (a code is accepted once, so wait for the next 30 s step if needed)."""
    deadline = time.monotonic() + 65
    while time.monotonic() < deadline:
        code = totp.now()
        if code not in used:
            return code
        time.sleep(0.5)
    raise CheckFailed("pyotp gave no new code within two steps")


# ----------------------------------------------------------------------- flow
RUN = uuid.uuid4().hex[:12]
EMAIL = f"totp-{RUN}@example.com"
PASSWORD = "totp-password-1"

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }"
LOG_IN = (
    "mutation($i: LogInInput!) { logIn(input: $i) "
    "{ token user { id } secondFactorRequired { challengeId methods expiresAt } } }"
)
VERIFY = (
    "mutation($c: String!, $code: String, $r: String) "
    "{ verifySecondFactor(challengeId: $c, code: $code, recoveryCode: $r) { token user { id email } } }"
)
ME = "{ me { email secondFactors { totp recoveryCodesLeft } } }"


def log_in_challenge():
    res = data_of(gql(LOG_IN, {"i": {"email": EMAIL, "password": PASSWORD}}), "logIn")
    expect(res["token"] is None, f"a token from the password alone: {res!r}")
    expect(res["user"] is None, f"a user from the password alone: {res!r}")
    challenge = res["secondFactorRequired"]
    expect(challenge and challenge["challengeId"], f"no challenge: {res!r}")
    return challenge


def enrol():
    res = data_of(gql(SIGN_UP, {"i": {"email": EMAIL, "password": PASSWORD}}), "signUp")
    token = res["token"]
    expect(isinstance(token, str) and token, f"signUp token: {res!r}")
    e = data_of(gql("mutation { enrollTotp { secret uri qrCodeSvg } }", token=token), "enrollTotp")
    parsed = pyotp.parse_uri(e["uri"])
    expect_eq(parsed.secret, e["secret"], "the secret in the otpauth URI")
    expect_eq(parsed.name, EMAIL, "the account name in the otpauth URI")
    expect(parsed.issuer, f"no issuer in the otpauth URI: {e['uri']!r}")
    expect_eq((parsed.digits, parsed.interval), (6, 30), "digits and period")
    expect("<svg" in e["qrCodeSvg"], "no SVG QR code")
    # Not active before it is confirmed: the password alone still signs in.
    plain = data_of(gql(LOG_IN, {"i": {"email": EMAIL, "password": PASSWORD}}), "logIn")
    expect(isinstance(plain["token"], str), f"log-in before confirmTotp: {plain!r}")
    totp = pyotp.TOTP(e["secret"])
    code = totp.now()
    conf = data_of(
        gql("mutation($c: String!) { confirmTotp(code: $c) { recoveryCodes } }", {"c": code}, token),
        "confirmTotp",
    )
    codes = conf["recoveryCodes"]
    expect(len(codes) == 10 and len(set(codes)) == 10, f"recovery codes: {codes!r}")
    me = data_of(gql(ME, token=token), "me")
    expect_eq(me["secondFactors"], {"totp": True, "recoveryCodesLeft": 10}, "secondFactors")
    S["totp"], S["recovery"], S["used"] = totp, codes, {code}


def log_in_with_app_code():
    totp, used = S["totp"], S["used"]
    challenge = log_in_challenge()
    expect("totp" in challenge["methods"], f"methods: {challenge['methods']!r}")
    expect("recovery_code" in challenge["methods"], f"methods: {challenge['methods']!r}")
    cid = challenge["challengeId"]
    # The code that confirmed the app was accepted once; it is not again.
    replay = gql(VERIFY, {"c": cid, "code": next(iter(used))})
    expect_eq(error_code(replay), "INVALID_SECOND_FACTOR", f"the confirming code again ({replay!r})")
    code = fresh_code(totp, used)
    res = data_of(gql(VERIFY, {"c": cid, "code": code}), "verifySecondFactor")
    used.add(code)
    expect_eq(res["user"]["email"], EMAIL, "verifySecondFactor user.email")
    me = data_of(gql(ME, token=res["token"]), "me")
    expect_eq(me["email"], EMAIL, "me with the token of the second factor")
    # The challenge is spent.
    again = gql(VERIFY, {"c": cid, "code": code})
    expect_eq(error_code(again), "CHALLENGE_INVALID", f"the spent challenge ({again!r})")


def recovery_code_once():
    recovery = S["recovery"][0]
    cid = log_in_challenge()["challengeId"]
    res = data_of(gql(VERIFY, {"c": cid, "r": recovery}), "verifySecondFactor")
    expect_eq(res["user"]["email"], EMAIL, "user.email after a recovery code")
    me = data_of(gql(ME, token=res["token"]), "me")
    expect_eq(me["secondFactors"]["recoveryCodesLeft"], 9, "recoveryCodesLeft after one use")
    cid = log_in_challenge()["challengeId"]
    again = gql(VERIFY, {"c": cid, "r": recovery})
    expect_eq(error_code(again), "INVALID_SECOND_FACTOR", f"the recovery code a second time ({again!r})")
    # Another one of the set still works.
    res = data_of(gql(VERIFY, {"c": cid, "r": S["recovery"][1]}), "verifySecondFactor")
    expect(isinstance(res["token"], str), f"second recovery code: {res!r}")


check("enrollTotp: otpauth URI parsed by pyotp; confirmTotp with pyotp's code returns 10 recovery codes",
      enrol)
check("logIn: secondFactorRequired; verifySecondFactor takes a fresh pyotp code once", log_in_with_app_code)
check("verifySecondFactor: a recovery code works once", recovery_code_once)

finish()
