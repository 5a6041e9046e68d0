"""Drives the official urBackend Python SDK (urbackend==0.1.0) against authgraph.

Environment: BASE_URL (no trailing slash), PK (publishable key).
Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
Exits 1 when any check failed.
"""
import http.client
import os
import uuid
import warnings

from urbackend import AuthError, NotFoundError, UrBackendClient, UrBackendError, ValidationError

from harness import CheckFailed, check, describe, expect, expect_eq, finish

BASE_URL = os.environ["BASE_URL"].rstrip("/")
PK = os.environ["PK"]
MAILDIR = os.environ.get("MAILDIR", "")

HEADER_MODE = {"x-refresh-token-mode": "header"}

# --------------------------------------------------------------------- harness
def detail(exc):
    if isinstance(exc, UrBackendError):
        return f"HTTP {exc.status_code} on {exc.endpoint}: {exc.message!r}"
    return str(exc)[:300]


describe(detail)


def expect_error(fn, exc_type, statuses, what):
    """Expects the SDK to raise exc_type with a status_code in `statuses`, from a
    JSON error body (`{"success": false, "error": msg, "code": status}`): without
    one the SDK falls back to the HTTP reason phrase."""
    statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
    try:
        fn()
    except UrBackendError as err:
        expect(
            isinstance(err, exc_type) and err.status_code in statuses,
            f"{what}: expected {exc_type.__name__} {statuses}, got "
            f"{type(err).__name__} {err.status_code} {err.message!r}",
        )
        fallback = (http.client.responses.get(err.status_code), "An unexpected error occurred")
        expect(
            err.message and err.message not in fallback,
            f"{what}: no JSON error message in the body (SDK saw {err.message!r})",
        )
        return err
    raise CheckFailed(f"{what}: expected {exc_type.__name__} {statuses}, call succeeded")


def forge(token):
    """Same header and payload, signature altered in its first characters."""
    parts = token.split(".")
    expect(len(parts) == 3, f"token is not a JWT: {token[:40]!r}")
    sig = parts[2]
    bad = "".join("A" if c != "A" else "B" for c in sig[:8]) + sig[8:]
    return ".".join([parts[0], parts[1], bad])


def new_client(extra_headers=None):
    return UrBackendClient(api_key=PK, base=BASE_URL, extra_headers=extra_headers)


def session_cookie(client, name="refreshToken"):
    """The cookie the server set on the SDK's requests.Session (observation only)."""
    for cookie in client._http._session.cookies:  # noqa: SLF001
        if cookie.name == name:
            return cookie
    return None


def is_jwt(token):
    return isinstance(token, str) and len(token.split(".")) == 3


# ----------------------------------------------------------------------- flow
RUN = uuid.uuid4().hex[:12]
EMAIL = f"ub-{RUN}@example.com"
USERNAME = f"ub_{RUN}"
PASSWORD = "ub-password-1"
NEW_PASSWORD = "ub-password-2"
SNEAKY_PASSWORD = "ub-password-sneaky"
class State(dict):
    """State shared between checks; a missing key means an earlier check failed."""

    def __missing__(self, key):
        raise CheckFailed(f"skipped: needs `{key}` from an earlier check that failed")


S = State()


def sign_up():
    c = new_client()
    body = c.auth.sign_up(
        EMAIL, PASSWORD, username=USERNAME, city="Lagos", preferences={"theme": "dark"}
    )
    expect(isinstance(body, dict), f"signup body is not an object: {body!r}")
    expect(is_jwt(body.get("accessToken")), f"accessToken missing: {body!r}")
    expect_eq(body.get("token"), body.get("accessToken"), "token (alias of accessToken)")
    expect(isinstance(body.get("userId"), str) and body["userId"], f"userId missing: {body!r}")
    expect(isinstance(body.get("expiresIn"), str) and body["expiresIn"], f"expiresIn: {body!r}")
    expect("refreshToken" not in body, "refreshToken in the body without header mode")
    expect("password" not in body, "password in the signup body")
    expect(c.auth.get_token() is None, "SDK cached a token on signup (it should not)")
    S["id"] = body["userId"]


def duplicate_sign_up():
    expect_error(
        lambda: new_client().auth.sign_up(EMAIL, PASSWORD, username=f"{USERNAME}_dup"),
        ValidationError,
        400,
        "duplicate signup",
    )


def login():
    c = new_client()
    body = c.auth.login(EMAIL, PASSWORD)
    expect(is_jwt(body.get("accessToken")), f"accessToken missing: {body!r}")
    expect_eq(body.get("token"), body.get("accessToken"), "token (alias of accessToken)")
    expect(isinstance(body.get("expiresIn"), str) and body["expiresIn"], f"expiresIn: {body!r}")
    expect("refreshToken" not in body, "refreshToken in the body without header mode")
    expect_eq(c.auth.get_token(), body["accessToken"], "cached token")
    S["client"] = c


def refresh_cookie_attributes():
    cookie = session_cookie(S["client"])
    expect(cookie is not None, "login set no `refreshToken` cookie")
    expect(not cookie.secure, "refreshToken cookie is Secure (requests won't send it over http)")
    rest = {k.lower() for k in getattr(cookie, "_rest", {})}
    expect("httponly" in rest, "refreshToken cookie is not HttpOnly")


def login_wrong_password():
    c = new_client()
    expect_error(lambda: c.auth.login(EMAIL, "not-the-password"), ValidationError, 400, "wrong password")
    expect(c.auth.get_token() is None, "SDK cached a token from a failed login")


def me():
    user = S["client"].auth.me()
    # A non-JSON content type makes the SDK hand back the text.
    expect(isinstance(user, dict), f"me() is not a JSON object: {user!r}")
    expect_eq(user.get("_id"), S["id"], "_id")
    expect_eq(user.get("email"), EMAIL, "email")
    expect_eq(user.get("username"), USERNAME, "username")
    expect_eq(user.get("city"), "Lagos", "city (extra signup field)")
    expect_eq(user.get("preferences"), {"theme": "dark"}, "preferences (extra signup field)")
    leaked = [k for k in user if "password" in k.lower()]
    expect(not leaked, f"password field(s) returned: {leaked}")
    expect("data" not in user, "user doc has a top-level `data` key (the TS SDK would unwrap it)")


def update_profile():
    c = S["client"]
    c.auth.update_profile(
        {"city": "Paris", "bio": "hi", "email": f"evil-{RUN}@example.com", "password": SNEAKY_PASSWORD}
    )
    user = c.auth.me()
    expect_eq(user.get("city"), "Paris", "city after update")
    expect_eq(user.get("bio"), "hi", "bio after update")
    expect_eq(user.get("username"), USERNAME, "username after update")
    expect_eq(user.get("email"), EMAIL, "email must ignore the payload")
    expect_error(
        lambda: new_client().auth.login(EMAIL, SNEAKY_PASSWORD),
        ValidationError,
        400,
        "login with the password sent to update-profile",
    )
    new_client().auth.login(EMAIL, PASSWORD)  # the real password still works


def change_password_wrong_current():
    expect_error(
        lambda: S["client"].auth.change_password("not-the-password", NEW_PASSWORD),
        ValidationError,
        400,
        "change_password with a wrong current password",
    )


def change_password():
    res = S["client"].auth.change_password(PASSWORD, NEW_PASSWORD)
    expect(isinstance(res, dict), f"change_password returned {res!r}")
    expect_error(
        lambda: new_client().auth.login(EMAIL, PASSWORD), ValidationError, 400, "login with the old password"
    )
    c = new_client()
    c.auth.login(EMAIL, NEW_PASSWORD)
    expect_eq(c.auth.me().get("_id"), S["id"], "me() after login with the new password")
    S["client"] = c


def public_profile():
    prof = new_client().auth.public_profile(USERNAME)
    expect(isinstance(prof, dict), f"public_profile is not an object: {prof!r}")
    expect_eq(prof.get("_id"), S["id"], "_id")
    expect_eq(prof.get("username"), USERNAME, "username")
    expect_eq(prof.get("city"), "Paris", "city")
    bad = [
        k
        for k in prof
        if any(s in k.lower() for s in ("password", "email", "token", "otp", "secret", "session", "refresh"))
    ]
    expect(not bad, f"sensitive key(s) in the public profile: {bad}")


def public_profile_unknown():
    expect_error(
        lambda: new_client().auth.public_profile(f"nobody_{RUN}"), NotFoundError, 404, "unknown username"
    )


def forged_token():
    token = S["client"].auth.get_token()
    expect_error(lambda: new_client().auth.me(token=forge(token)), AuthError, 401, "me() with a forged token")


def cookie_refresh():
    c = S["client"]
    old = c.auth.get_token()
    body = c.auth.refresh_token()
    expect(is_jwt(body.get("accessToken")), f"accessToken missing: {body!r}")
    expect_eq(c.auth.get_token(), body["accessToken"], "cached token after refresh")
    expect("refreshToken" not in body, "refreshToken in the body in cookie mode")
    expect_eq(c.auth.me().get("_id"), S["id"], "me() with the refreshed token")
    S["pre_refresh_access"] = old


def cookie_refresh_rotates():
    c = S["client"]
    before = session_cookie(c)
    expect(before is not None, "no refreshToken cookie to rotate")
    value = before.value
    c.auth.refresh_token()
    after = session_cookie(c)
    expect(after is not None and after.value != value, "refreshToken cookie not rotated")
    # The replaced cookie value is now a used token: replay → 403.
    expect_error(
        lambda: new_client(HEADER_MODE).auth.refresh_token(value), AuthError, 403, "replay of a rotated cookie"
    )


def header_mode():
    c = new_client(HEADER_MODE)
    body = c.auth.login(EMAIL, NEW_PASSWORD)
    rt = body.get("refreshToken")
    expect(isinstance(rt, str) and rt, f"no refreshToken in the header-mode login body: {body!r}")
    # Refresh from a client that has no cookies: the header alone must work.
    r = new_client(HEADER_MODE)
    res = r.auth.refresh_token(rt)
    expect(is_jwt(res.get("accessToken")), f"accessToken missing: {res!r}")
    rt2 = res.get("refreshToken")
    expect(isinstance(rt2, str) and rt2 and rt2 != rt, f"refresh token not rotated: {res!r}")
    expect_eq(r.auth.me().get("_id"), S["id"], "me() with the header-mode access token")
    S["rt_used"], S["rt_current"] = rt, rt2


def header_mode_replay():
    expect_error(
        lambda: new_client(HEADER_MODE).auth.refresh_token(S["rt_used"]),
        AuthError,
        403,
        "replay of a used refresh token",
    )


def header_mode_chain_revoked():
    # After reuse is detected the whole session chain is revoked.
    expect_error(
        lambda: new_client(HEADER_MODE).auth.refresh_token(S["rt_current"]),
        AuthError,
        (401, 403),
        "refresh with the newest token of a revoked chain",
    )


def logout():
    c = new_client()
    c.auth.login(EMAIL, NEW_PASSWORD)
    cookie = session_cookie(c)
    expect(cookie is not None, "login set no refreshToken cookie")
    rt = cookie.value
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = c.auth.logout()
    expect(not caught, f"server logout failed (SDK warned): {[str(w.message) for w in caught]}")
    expect(isinstance(res, dict) and res.get("success") is True, f"logout body: {res!r}")
    expect(c.auth.get_token() is None, "SDK kept the token after logout")
    expect(session_cookie(c) is None, "logout did not clear the refreshToken cookie")
    expect_error(lambda: c.auth.refresh_token(), AuthError, (401, 403), "cookie refresh after logout")
    expect_error(
        lambda: new_client(HEADER_MODE).auth.refresh_token(rt),
        AuthError,
        (401, 403),
        "refresh with the logged-out session's token",
    )


def mail_to(address, after=0, timeout=10.0):
    """The text of the newest mail to `address` in the SMTP server's Maildir,
    beyond the first `after` ones."""
    import email.policy
    import mailbox
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        if os.path.isdir(MAILDIR):
            for msg in mailbox.Maildir(MAILDIR, factory=None, create=False):
                parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
                if address in str(parsed["To"]):
                    found.append(parsed.get_content())
        if len(found) > after:
            return found[-1]
        time.sleep(0.1)
    raise CheckFailed(f"no mail to {address} reached the SMTP server")


def password_reset_by_code():
    email = f"reset-{uuid.uuid4().hex[:10]}@example.com"
    new_client().auth.sign_up(email, PASSWORD, username=f"r{uuid.uuid4().hex[:10]}")
    c = new_client()
    res = c.auth.request_password_reset(email)
    expect(isinstance(res, dict) and "message" in res, f"request body: {res!r}")
    unknown = c.auth.request_password_reset(f"nobody-{uuid.uuid4().hex[:8]}@example.com")
    expect_eq(unknown, res, "answer for an unknown email")
    body = mail_to(email)
    code = body.split("Your code:", 1)[1].split()[0]
    expect(len(code) == 6 and code.isdigit(), f"code in the mail: {code!r}")
    wrong = "000000" if code != "000000" else "111111"
    expect_error(lambda: c.auth.reset_password(email, wrong, NEW_PASSWORD), ValidationError, 400, "a wrong code")
    res = c.auth.reset_password(email, code, NEW_PASSWORD)
    expect(isinstance(res, dict) and "message" in res, f"reset body: {res!r}")
    new_client().auth.login(email, NEW_PASSWORD)
    expect_error(lambda: new_client().auth.login(email, PASSWORD), ValidationError, 400, "the old password")
    expect_error(lambda: c.auth.reset_password(email, code, "another new password"), ValidationError, 400, "the code twice")


def email_verification_by_code():
    email = f"verify-{uuid.uuid4().hex[:10]}@example.com"
    new_client().auth.sign_up(email, PASSWORD, username=f"v{uuid.uuid4().hex[:10]}")
    c = new_client()
    res = c.auth.resend_verification_otp(email)
    expect(isinstance(res, dict) and "message" in res, f"resend body: {res!r}")
    body = mail_to(email)
    code = body.split("Your code:", 1)[1].split()[0]
    expect_error(lambda: c.auth.verify_email(email, "000000" if code != "000000" else "111111"), ValidationError, 400, "a wrong code")
    res = c.auth.verify_email(email, code)
    expect(isinstance(res, dict) and "message" in res, f"verify body: {res!r}")
    c.auth.login(email, PASSWORD)
    expect_eq(c.auth.me().get("isVerified"), True, "isVerified after verify_email")


def no_api_key_rejected():
    c = UrBackendClient(api_key="pk_live_invalid", base=BASE_URL)
    expect_error(lambda: c.auth.login(EMAIL, NEW_PASSWORD), AuthError, 401, "login with an unknown key")


check("sign_up: body with accessToken/token, userId, expiresIn; token not cached", sign_up)
check("sign_up: duplicate email rejected (ValidationError 400)", duplicate_sign_up)
check("login: caches accessToken, no refreshToken in body (cookie mode)", login)
check("login: refreshToken cookie is HttpOnly and not Secure", refresh_cookie_attributes)
check("login: wrong password rejected (ValidationError 400)", login_wrong_password)
check("me: _id, email, username, extra fields, no password", me)
check("update_profile: fields change, email/password in payload ignored", update_profile)
check("change_password: wrong current password (ValidationError 400)", change_password_wrong_current)
check("change_password: old password fails (400), new works", change_password)
check("public_profile: no email or secrets", public_profile)
check("public_profile: unknown username (NotFoundError 404)", public_profile_unknown)
check("forged token rejected on me() (AuthError 401)", forged_token)
check("refresh (cookie mode): new access token works for me()", cookie_refresh)
check("refresh (cookie mode): cookie rotated, replaying the old one is 403", cookie_refresh_rotates)
check("refresh (header mode): refreshToken in login body, rotated on use", header_mode)
check("refresh (header mode): replaying a used refresh token is 403", header_mode_replay)
check("refresh (header mode): chain revoked after reuse", header_mode_chain_revoked)
check("logout: success, cookie cleared, session revoked", logout)
check("unknown API key rejected (AuthError 401)", no_api_key_rejected)
check("password reset: code mailed through a real SMTP server, works once", password_reset_by_code)
check("verify_email: code mailed through a real SMTP server, isVerified", email_verification_by_code)

finish()
