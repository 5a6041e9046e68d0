"""Drives the official Cocobase Python SDK (cocobase==1.5.0) against authgraph.

Environment: BASE_URL (no trailing slash), PK (publishable key), SK (secret key).
Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
Exits 1 when any check failed.
"""
import os
import re
import uuid

from cocobase_client import CocoBaseClient, CocobaseError

from harness import CheckFailed, check, expect, expect_eq, finish, gql

BASE_URL = os.environ["BASE_URL"].rstrip("/")
PK = os.environ["PK"]
SK = os.environ["SK"]
MAILDIR = os.environ.get("MAILDIR", "")

# --------------------------------------------------------------------- harness
def status_of(err):
    """The SDK raises CocobaseError("Request failed: <status> - <body>")."""
    m = re.search(r"Request failed: (\d{3})", str(err))
    return int(m.group(1)) if m else None


def expect_cocobase_error(fn, statuses, what):
    """Expects CocobaseError with a status in `statuses` and a FastAPI-style
    `{"detail": ...}` error body (the SDK puts the parsed body in the message)."""
    statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
    try:
        fn()
    except CocobaseError as err:
        got = status_of(err)
        expect(got in statuses, f"{what}: expected HTTP {statuses}, got {str(err)[:200]!r}")
        expect("'detail'" in str(err), f"{what}: error body has no `detail`: {str(err)[:200]!r}")
        return err
    raise CheckFailed(f"{what}: expected CocobaseError (HTTP {statuses}), call succeeded")


def forge(token):
    """Same header and payload, signature altered in its first characters."""
    parts = token.split(".")
    expect(len(parts) == 3, f"token is not a JWT: {token[:40]!r}")
    sig = parts[2]
    bad = "".join("A" if c != "A" else "B" for c in sig[:8]) + sig[8:]
    return ".".join([parts[0], parts[1], bad])


def new_client(key=PK):
    return CocoBaseClient(api_key=key, base_url=BASE_URL)


def is_jwt(token):
    return isinstance(token, str) and len(token.split(".")) == 3


# ----------------------------------------------------------------------- flow
RUN = uuid.uuid4().hex[:12]
EMAIL = f"coco-{RUN}@example.com"
PASSWORD = "coco-password-1"
NEW_PASSWORD = "coco-password-2"
PROFILE = {"name": "Ann", "city": "Lagos"}
class State(dict):
    """State shared between checks; a missing key means an earlier check failed."""

    def __missing__(self, key):
        raise CheckFailed(f"skipped: needs `{key}` from an earlier check that failed")


S = State()


def signup():
    c = new_client()
    result = c.auth.register(EMAIL, PASSWORD, data=dict(PROFILE))
    expect(result.requires_2fa is False, f"requires_2fa should be False, got {result.requires_2fa!r}")
    expect(is_jwt(c.auth.token), f"client holds no JWT access_token: {c.auth.token!r}")
    user = c.auth.user
    expect(user is not None, "client holds no user after register")
    raw = user.to_dict()
    expect(isinstance(user.id, str) and user.id, f"user.id missing: {raw!r}")
    expect_eq(user.email, EMAIL, "user.email")
    expect_eq(user.data, PROFILE, "user.data")
    expect(isinstance(raw.get("created_at"), str) and raw["created_at"], f"created_at missing: {raw!r}")
    expect(isinstance(raw.get("roles", []), list), f"roles is not a list: {raw.get('roles')!r}")
    expect("password" not in raw and "password" not in user.data, f"password leaked: {raw!r}")
    S["client"] = c
    S["id"] = user.id
    S["token"] = c.auth.token


def duplicate_signup():
    c = new_client()
    expect_cocobase_error(
        lambda: c.auth.register(EMAIL, PASSWORD, data={"name": "Dup"}), 400, "duplicate signup"
    )
    expect(c.auth.token is None, "client got a token from a rejected signup")


def login():
    c = new_client()
    result = c.auth.login(EMAIL, PASSWORD)
    expect(result.requires_2fa is False, f"requires_2fa should be False, got {result.requires_2fa!r}")
    expect(is_jwt(c.auth.token), f"no JWT access_token after login: {c.auth.token!r}")
    expect(result.user is not None, "no user after login")
    expect_eq(result.user.id, S["id"], "login user.id")
    expect_eq(result.user.email, EMAIL, "login user.email")
    expect_eq(result.user.data, PROFILE, "login user.data")
    S["client"] = c
    S["token"] = c.auth.token


def login_wrong_password():
    c = new_client()
    expect_cocobase_error(lambda: c.auth.login(EMAIL, "not-the-password"), 401, "wrong password")
    expect(c.auth.token is None, "client got a token from a rejected login")


def login_unknown_email():
    expect_cocobase_error(
        lambda: new_client().auth.login(f"nobody-{RUN}@example.com", PASSWORD), (401, 404), "unknown email"
    )


def current_user():
    c = S["client"]
    user = c.auth.get_current_user()
    expect_eq(user.id, S["id"], "id")
    expect_eq(user.email, EMAIL, "email")
    expect_eq(user.data, PROFILE, "data")
    expect("password" not in user.to_dict(), "password field returned")


def update_data():
    c = S["client"]
    user = c.auth.update_user(data={"city": "Paris", "age": 30})
    expected = {"name": "Ann", "city": "Paris", "age": 30}
    expect_eq(user.id, S["id"], "id")
    expect_eq(user.email, EMAIL, "email")
    expect_eq(user.data, expected, "returned data")
    again = c.auth.get_current_user()
    expect_eq(again.data, expected, "data re-read with get_current_user")


def update_merges_server_side():
    # A client restored from a stored token has no user object, so the SDK
    # sends only the new keys; the server must merge them into the stored data.
    c = new_client()
    c.auth.set_token(S["token"])
    user = c.auth.update_user(data={"lang": "fr"})
    expect_eq(user.data, {"name": "Ann", "city": "Paris", "age": 30, "lang": "fr"}, "merged data")


def change_password():
    c = S["client"]
    user = c.auth.update_user(password=NEW_PASSWORD)
    expect_eq(user.id, S["id"], "id after password change")
    expect("password" not in user.to_dict(), "password field returned")
    expect_cocobase_error(
        lambda: new_client().auth.login(EMAIL, PASSWORD), 401, "login with the old password"
    )
    fresh = new_client()
    fresh.auth.login(EMAIL, NEW_PASSWORD)
    expect_eq(fresh.auth.user.id if fresh.auth.user else None, S["id"], "login with the new password")
    S["client"] = fresh
    S["token"] = fresh.auth.token


AUDIT = "query($u: String) { auditEvents(where: {userId: $u}, first: 100) { nodes { kind outcome ip userAgent } } }"


def audit_trail():
    import json
    import urllib.request

    body = json.dumps({"query": AUDIT, "variables": {"u": S["id"]}}).encode()
    headers = {"content-type": "application/json", "x-api-key": SK}
    req = urllib.request.Request(f"{BASE_URL}/graphql", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=30) as res:
        reply = json.load(res)
    nodes = reply["data"]["auditEvents"]["nodes"]
    seen = [(n["kind"], n["outcome"]) for n in reversed(nodes)]
    expect(seen[:3] == [("sign_up", "success"), ("log_in", "success"), ("log_in", "failure")], f"{seen!r}")
    expect(seen.count(("password_changed", "success")) == 1, f"one password change in {seen!r}")
    expect(all(n["ip"] and n["userAgent"] for n in nodes), f"client of every event: {nodes!r}")
    # The publishable key reads nothing.
    refused = gql(AUDIT, {"u": S["id"]})
    expect_eq(refused["errors"][0]["extensions"]["code"], "FORBIDDEN", "auditEvents with the publishable key")


def forged_token():
    c = new_client()
    c.auth.set_token(forge(S["token"]))
    expect_cocobase_error(c.auth.get_current_user, 401, "get_current_user with a forged token")


def garbage_token():
    c = new_client()
    c.auth.set_token("not-a-jwt")
    expect_cocobase_error(c.auth.get_current_user, 401, "get_current_user with a garbage token")


def admin_list():
    admin = new_client(SK)
    res = admin.auth.list_users({"limit": 50, "offset": 0})
    expect(isinstance(res, dict), f"list_users should return an object, got {type(res).__name__}")
    for key in ("data", "users"):
        expect(isinstance(res.get(key), list), f"`{key}` is not an array: {str(res)[:200]}")
        ids = [u.get("id") for u in res[key]]
        expect(S["id"] in ids, f"user {S['id']} not in `{key}` ({len(ids)} items)")
    expect_eq(res["data"], res["users"], "`data` and `users` arrays")
    expect(isinstance(res.get("total"), int) and res["total"] >= 1, f"total: {res.get('total')!r}")
    expect_eq(res.get("limit"), 50, "limit")
    expect_eq(res.get("offset"), 0, "offset")
    mine = next(u for u in res["data"] if u.get("id") == S["id"])
    expect_eq(mine.get("email"), EMAIL, "listed email")
    expect_eq(mine.get("data", {}).get("city"), "Paris", "listed data.city")
    expect("password" not in mine, "password field listed")


def admin_list_filter():
    admin = new_client(SK)
    res = admin.auth.list_users({"email_eq": EMAIL})
    expect_eq([u.get("id") for u in res.get("data", [])], [S["id"]], "ids in `data` for email_eq")
    expect_eq([u.get("id") for u in res.get("users", [])], [S["id"]], "ids in `users` for email_eq")
    expect_eq(res.get("total"), 1, "total for email_eq")


def admin_get_by_id():
    admin = new_client(SK)
    user = admin.auth.get_user_by_id(S["id"])
    expect_eq(user.id, S["id"], "id")
    expect_eq(user.email, EMAIL, "email")
    expect_eq(user.data.get("name"), "Ann", "data.name")
    expect("password" not in user.to_dict(), "password field returned")


def admin_get_unknown_id():
    admin = new_client(SK)
    expect_cocobase_error(
        lambda: admin.auth.get_user_by_id(f"no-such-user-{RUN}"), 404, "get_user_by_id(unknown)"
    )


CODE_SUBJECT = "Your sign-in confirmation code"


def code_mails(address):
    """{Maildir key: body} of the 2FA code mails to `address` that the real
    SMTP server (aiosmtpd) stored."""
    import email.policy
    import mailbox

    found = {}
    if os.path.isdir(MAILDIR):
        for key, msg in mailbox.Maildir(MAILDIR, factory=None, create=False).items():
            parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
            if address in str(parsed["To"]) and parsed["Subject"] == CODE_SUBJECT:
                found[key] = parsed.get_content()
    return found


def new_code_mail(address, seen, timeout=10.0):
    """The code of a 2FA mail to `address` not among the keys `seen`."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = {k: v for k, v in code_mails(address).items() if k not in seen}
        if fresh:
            key, body = next(iter(fresh.items()))
            code = body.split("Your code:", 1)[1].split()[0]
            expect(len(code) == 6 and code.isdigit(), f"code in the mail: {code!r}")
            return key, code, body
        time.sleep(0.1)
    raise CheckFailed(f"no new 2FA code mail to {address} reached the SMTP server")


def two_factor_by_mail():
    email = f"coco-2fa-{RUN}@example.com"
    c = new_client()
    c.auth.register(email, PASSWORD)
    c.auth.enable_2fa()

    d = new_client()
    result = d.auth.login(email, PASSWORD)
    expect(result.requires_2fa is True, f"requires_2fa after enable_2fa: {result.requires_2fa!r}")
    expect(isinstance(result.message, str) and result.message, f"message: {result.message!r}")
    expect(d.auth.token is None, f"a token before the second factor: {d.auth.token!r}")
    first_key, first_code, body = new_code_mail(email, set())
    expect("5 minutes" in body, f"the mail does not state the 5-minute expiry: {body[:300]!r}")

    # send_2fa_code mails a new code, which replaces the first.
    d.auth.send_2fa_code(email)
    _, code, _ = new_code_mail(email, {first_key})
    wrong = "000000" if code != "000000" else "111111"
    expect_cocobase_error(lambda: d.auth.verify_2fa_login(email, wrong), 401, "a wrong code")
    if first_code != code:
        expect_cocobase_error(
            lambda: d.auth.verify_2fa_login(email, first_code), 401, "the replaced code"
        )
    user = d.auth.verify_2fa_login(email, code)
    expect_eq(user.email, email, "verify_2fa_login user.email")
    expect(is_jwt(d.auth.token), f"no JWT after verify_2fa_login: {d.auth.token!r}")
    me = d.auth.get_current_user()
    expect_eq(me.email, email, "get_current_user email with the 2FA token")
    # The code worked once: the log-in is complete, a replay is refused.
    expect_cocobase_error(lambda: new_client().auth.verify_2fa_login(email, code), 401, "a replayed code")



# 1x1 PNG and a 1x1 GIF, as apps upload avatars.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000101ff89993d1d"
    "0000000049454e44ae426082"
)
GIF_1X1 = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def absolute(url):
    return url if url.startswith("http") else BASE_URL + url


def fetch(url):
    import urllib.request

    with urllib.request.urlopen(absolute(url)) as res:
        return res.status, res.headers.get("Content-Type"), res.read()


def fetch_status(url):
    import urllib.error

    try:
        return fetch(url)[0]
    except urllib.error.HTTPError as err:
        return err.code


def register_with_files():
    c = new_client()
    email = f"coco-files-{RUN}@example.com"
    result = c.auth.register_with_files(
        email, PASSWORD, data={"name": "Filer"}, files={"avatar": ("me.png", PNG_1X1, "image/png")}
    )
    expect(result.requires_2fa is False, f"requires_2fa: {result.requires_2fa!r}")
    expect(is_jwt(c.auth.token), f"no JWT after register_with_files: {c.auth.token!r}")
    user = c.auth.user
    expect_eq(user.email, email, "user.email")
    expect_eq(user.data.get("name"), "Filer", "user.data.name")
    url = user.data.get("avatar")
    expect(isinstance(url, str) and "/api/files/" in url, f"data.avatar is not a file URL: {url!r}")
    status, ctype, body = fetch(url)
    expect_eq((status, ctype), (200, "image/png"), "GET data.avatar")
    expect_eq(body, PNG_1X1, "the served bytes")
    me = c.auth.get_current_user()
    expect_eq(me.data.get("avatar"), url, "get_current_user data.avatar")
    S["files_client"] = c
    S["avatar_url"] = url


def update_user_with_files():
    c = S["files_client"]
    old = S["avatar_url"]
    user = c.auth.update_user_with_files(
        data={"city": "Accra"}, files={"avatar": ("new.gif", GIF_1X1, "image/gif")}
    )
    url = user.data.get("avatar")
    expect(isinstance(url, str) and url != old, f"data.avatar did not change: {url!r}")
    expect_eq(user.data.get("city"), "Accra", "data.city")
    expect_eq(user.data.get("name"), "Filer", "data.name kept")
    status, ctype, body = fetch(url)
    expect_eq((status, ctype, body), (200, "image/gif", GIF_1X1), "GET the new data.avatar")
    expect_eq(fetch_status(old), 404, "the replaced file")
    # Without files the merged profile (with the URL) goes back unchanged.
    user = c.auth.update_user_with_files(data={"city": "Kumasi"})
    expect_eq(user.data.get("avatar"), url, "data.avatar kept by an update without files")
    expect_eq(fetch_status(url), 200, "the kept file")


def upload_of_the_wrong_type():
    c = new_client()
    try:
        c.auth.register_with_files(
            f"coco-html-{RUN}@example.com",
            PASSWORD,
            files={"avatar": ("x.png", b"<html><script>alert(1)</script>", "image/png")},
        )
    except CocobaseError as err:
        expect("detail" in str(err), f"no detail: {str(err)[:200]!r}")
        return
    raise CheckFailed("an HTML file named .png was accepted")


check("signup: register() returns access_token and user with data", signup)
check("signup: duplicate email rejected (400)", duplicate_signup)
check("login: returns access_token and the same user", login)
check("login: wrong password rejected (401)", login_wrong_password)
check("login: unknown email rejected", login_unknown_email)
check("get_current_user: same id, email and data", current_user)
check("update_user(data): merged data returned and stored", update_data)
check("update_user(data) from a token-only client: merged server-side", update_merges_server_side)
check("update_user(password): old password fails, new works", change_password)
check("audit: the SDK's sign-up, log-ins and password change are in auditEvents (secret key only)", audit_trail)
check("forged token rejected (401)", forged_token)
check("garbage token rejected (401)", garbage_token)
check("admin (secret key): list_users has user in `data` and `users`, total", admin_list)
check("admin (secret key): list_users email_eq filter", admin_list_filter)
check("admin (secret key): get_user_by_id", admin_get_by_id)
check("admin (secret key): get_user_by_id unknown id is 404", admin_get_unknown_id)
check("files: register_with_files stores the avatar, data.avatar is its URL", register_with_files)
check("files: update_user_with_files replaces it (old URL 404), a plain update keeps it", update_user_with_files)
check("files: a file whose bytes are not its type is refused with a detail", upload_of_the_wrong_type)
check("2FA: enable_2fa, login requires_2fa, send_2fa_code, verify_2fa_login with the mailed code", two_factor_by_mail)

finish()
