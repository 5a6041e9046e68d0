"""OAuth2 / OpenID Connect sign-in end to end, against a real OpenID provider
(oauth2-mock-server, `clients/oidc/mock.mjs`): GraphQL `startOAuth` /
`finishOAuth` with the generic `oidc`, the `google` and the `github` provider,
the official Cocobase SDK's `login_with_google` (an ID token the provider
signed) and `login_with_github`, and the official urBackend SDK's social
sign-in (`social_start_url` → provider → the server's callback →
`social_exchange`). New and returning users each time.

The "browser" follows the authorization URL with plain HTTP: the provider
approves at once and redirects to the app's callback, where the code is read
off the `Location` header. The account chosen at the provider is the
`login_hint` (a base64url JSON of its claims, see `mock.mjs`).

Environment: BASE_URL, PK, OIDC_URL, OAUTH_REDIRECT, OAUTH_SITE (set by `run.sh`).
"""
import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cocobase_client import CocoBaseClient, CocobaseError
from urbackend import UrBackendClient

from harness import CheckFailed, check, expect, expect_eq, finish

BASE_URL = os.environ["BASE_URL"].rstrip("/")
PK = os.environ["PK"]
OIDC_URL = os.environ["OIDC_URL"].rstrip("/")
REDIRECT = os.environ["OAUTH_REDIRECT"]
SITE = os.environ["OAUTH_SITE"].rstrip("/")
GOOGLE_CLIENT = "google-client.apps.example"
GITHUB_CLIENT = "github-client"

RUN = uuid.uuid4().hex[:8]
got = {}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


no_redirect = urllib.request.build_opener(NoRedirect)


def post_json(url, body, headers=None):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(req, timeout=20) as res:
        return json.load(res)


def gql(query, variables=None, token=None):
    headers = {"x-api-key": PK}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return post_json(f"{BASE_URL}/graphql", {"query": query, "variables": variables or {}}, headers)


def account(name, verified=True, sub=None):
    """The claims of an account at the provider, unique to this run."""
    return {
        "sub": sub or f"{name}-{RUN}",
        "email": f"{name}-{RUN}@example.com",
        "email_verified": verified,
        "name": name.capitalize(),
        "picture": f"https://img.example/{name}.png",
    }


def redirect_of(url):
    """A browser's GET of `url` that must answer with a redirect: its Location."""
    try:
        no_redirect.open(url, timeout=20)
    except urllib.error.HTTPError as err:
        expect(err.code in (302, 303), f"{url[:60]} answered {err.code}, not a redirect: {err.read()[:200]!r}")
        return err.headers["location"]
    raise CheckFailed(f"{url[:60]} did not redirect")


def follow(url, claims, target=REDIRECT):
    """What a browser does at the provider: the redirect's query (code, state)."""
    hint = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    sep = "&" if "?" in url else "?"
    location = redirect_of(f"{url}{sep}login_hint={hint}")
    expect(location.startswith(target + "?"), f"redirected to {location[:120]!r}")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


START = "mutation($p: String!, $r: String!) { startOAuth(provider: $p, redirectUrl: $r) { url state } }"
FINISH = (
    "mutation($s: String!, $c: String!) { finishOAuth(state: $s, code: $c) { token refreshToken "
    "user { id email verified data identities { provider email emailVerified } } } }"
)


def graphql_sign_in(provider, claims):
    """startOAuth, the provider, finishOAuth: (the payload, or the errors)."""
    res = gql(START, {"p": provider, "r": REDIRECT})
    expect("errors" not in res, f"startOAuth: {res.get('errors')}")
    start = res["data"]["startOAuth"]
    back = follow(start["url"], claims)
    expect_eq(back.get("state"), start["state"], "the state the provider returned")
    expect("code" in back, f"no code in the redirect: {back}")
    res = gql(FINISH, {"s": start["state"], "c": back["code"]})
    return res, start["state"], back["code"]


def signed_in(res, claims, provider):
    expect("errors" not in res, f"finishOAuth: {res.get('errors')}")
    p = res["data"]["finishOAuth"]
    expect(p["token"] and p["refreshToken"], f"no tokens: {p}")
    u = p["user"]
    expect_eq(u["email"], claims["email"], "the user's email")
    expect_eq(u["verified"], claims["email_verified"], "verified (the provider's email_verified)")
    expect_eq(u["identities"], [{"provider": provider, "email": claims["email"],
                                 "emailVerified": claims["email_verified"]}], "identities")
    return p


def the_token_works(p):
    me = gql("{ me { id email } }", token=p["token"])
    expect_eq(me.get("data", {}).get("me", {}).get("id"), p["user"]["id"], "me with the access token")
    res = gql("mutation($r: String!) { refreshToken(refreshToken: $r) { token refreshToken } }",
              {"r": p["refreshToken"]})
    expect("errors" not in res, f"refreshToken: {res.get('errors')}")
    fresh = res["data"]["refreshToken"]["token"]
    me = gql("{ me { id } }", token=fresh)
    expect_eq(me["data"]["me"]["id"], p["user"]["id"], "me with the refreshed token")


def error_code(res):
    errs = res.get("errors") or [{}]
    return errs[0].get("extensions", {}).get("code")


# ------------------------------------------------------------------ GraphQL
for provider in ("mock", "google", "github"):
    who = account(f"{provider}-ann")

    def first(provider=provider, who=who):
        res, state, code = graphql_sign_in(provider, who)
        p = signed_in(res, who, provider)
        expect_eq(p["user"]["data"].get("name"), who["name"], "the profile's name from the provider")
        the_token_works(p)
        got[provider] = (p["user"]["id"], state, code)
        # The state is single use: the same callback again is refused.
        again = gql(FINISH, {"s": state, "c": code})
        expect_eq(error_code(again), "OAUTH_REJECTED", "the state used a second time")

    def returning(provider=provider, who=who):
        expect(provider in got, f"skipped: needs the first sign-in with {provider}")
        res, _, _ = graphql_sign_in(provider, who)
        p = signed_in(res, who, provider)
        expect_eq(p["user"]["id"], got[provider][0], "the same user on the second sign-in")
        the_token_works(p)

    check(f"GraphQL startOAuth/finishOAuth with `{provider}`: a new user from the provider's account", first)
    check(f"GraphQL startOAuth/finishOAuth with `{provider}`: the returning user is the same user", returning)


def unverified():
    who = account("unverified", verified=False)
    res, _, _ = graphql_sign_in("mock", who)
    p = signed_in(res, who, "mock")
    expect_eq(p["user"]["verified"], False, "verified for an unverified provider email")


def existing_email_not_joined():
    email = f"pw-{RUN}@example.com"
    res = gql('mutation($e: String!) { signUp(input: {email: $e, password: "correct horse battery"}) { token } }',
              {"e": email})
    expect("errors" not in res, f"signUp: {res.get('errors')}")
    who = {**account("pw"), "email": email}
    res, _, _ = graphql_sign_in("mock", who)
    expect_eq(error_code(res), "FORBIDDEN", "an existing account's email (linking by email is off)")


def a_changed_email_keeps_the_user():
    expect("mock" in got, "skipped: needs the first sign-in with mock")
    who = {**account("mock-ann"), "email": f"mock-ann-new-{RUN}@example.com"}
    res, _, _ = graphql_sign_in("mock", who)
    expect("errors" not in res, f"finishOAuth: {res.get('errors')}")
    expect_eq(res["data"]["finishOAuth"]["user"]["id"], got["mock"][0], "the user after an email change")


check("an unverified email at the provider gives an unverified user", unverified)
check("a verified provider email of an existing account is refused (not joined)", existing_email_not_joined)
check("a changed email at the provider signs in the same user", a_changed_email_keeps_the_user)


def a_wrong_code_is_rejected():
    res = gql(START, {"p": "mock", "r": REDIRECT})
    state = res["data"]["startOAuth"]["state"]
    res = gql(FINISH, {"s": state, "c": "not-a-code"})
    expect_eq(error_code(res), "OAUTH_REJECTED", "a code the provider never issued")


check("a code the provider never issued is OAUTH_REJECTED", a_wrong_code_is_rejected)


# ----------------------------------------------------------------- Cocobase
def id_token(claims, aud=GOOGLE_CLIENT):
    return post_json(f"{OIDC_URL}/_test/id_token", {"aud": aud, "claims": claims})["id_token"]


def cocobase_google():
    who = account("coco-google")
    c = CocoBaseClient(api_key=PK, base_url=BASE_URL)
    user = c.auth.login_with_google(id_token(who))
    expect_eq(user.email, who["email"], "login_with_google user.email")
    me = c.auth.get_current_user()
    expect_eq(me.id, user.id, "get_current_user after login_with_google")
    again = CocoBaseClient(api_key=PK, base_url=BASE_URL)
    expect_eq(again.auth.login_with_google(id_token(who), platform="android").id, user.id,
              "the returning user")
    expect_eq(user.to_dict().get("verified"), True, "verified (the ID token's email_verified)")
    expect_eq(user.data.get("name"), who["name"], "the profile's name from the ID token")


def cocobase_google_refuses_other_audience():
    c = CocoBaseClient(api_key=PK, base_url=BASE_URL)
    try:
        c.auth.login_with_google(id_token(account("coco-other"), aud="someone-else"))
    except CocobaseError as err:
        expect("401" in str(err), f"expected 401, got {str(err)[:200]}")
    else:
        raise CheckFailed("an ID token for another client was accepted")


def cocobase_github():
    who = {**account("coco-gh"), "sub": str(uuid.uuid4().int % 10**9)}
    ids = []
    for _ in range(2):
        # The app sends the browser to GitHub itself (no PKCE: the SDK sends no verifier).
        q = urllib.parse.urlencode({"client_id": GITHUB_CLIENT, "redirect_uri": REDIRECT,
                                    "state": "app-state", "scope": "read:user user:email"})
        back = follow(f"{OIDC_URL}/authorize?response_type=code&{q}", who)
        c = CocoBaseClient(api_key=PK, base_url=BASE_URL)
        user = c.auth.login_with_github(back["code"], REDIRECT)
        expect_eq(user.email, who["email"], "login_with_github user.email")
        expect_eq(c.auth.get_current_user().id, user.id, "get_current_user after login_with_github")
        ids.append(user.id)
    expect_eq(ids[1], ids[0], "the returning GitHub user")


def get_json(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as res:
        return json.load(res)


def cocobase_redirect_flow(start_path, who):
    """The docs' flow: `{url, state}` from the server, the provider, then
    `verify-google-login {code, state}` (plain HTTP: the SDK has no call for it)."""
    q = urllib.parse.urlencode({"redirect_uri": REDIRECT})
    started = get_json(f"{BASE_URL}/auth-collections/{start_path}?{q}", {"x-api-key": PK})
    back = follow(started["url"], who)
    expect_eq(back.get("state"), started["state"], "the state the provider returned")
    done = post_json(f"{BASE_URL}/auth-collections/verify-google-login",
                     {"code": back["code"], "state": started["state"]}, {"x-api-key": PK})
    expect_eq(done["user"]["email"], who["email"], "user.email")
    c = CocoBaseClient(api_key=PK, base_url=BASE_URL)
    c.auth.set_token(done["access_token"])
    expect_eq(c.auth.get_current_user().id, done["user"]["id"], "get_current_user with the access_token")
    return done["user"]["id"]


for start_path, label in (("oauth/mock", "oauth/{provider}"), ("login-google", "login-google")):
    def cocobase_flow(start_path=start_path):
        who = account(f"coco-{start_path.replace('/', '-')}")
        first = cocobase_redirect_flow(start_path, who)
        expect_eq(cocobase_redirect_flow(start_path, who), first, "the returning user")

    check(f"Cocobase {label} → provider → verify-google-login {{code, state}}: new, then returning", cocobase_flow)

check("Cocobase login_with_google with an ID token the provider signed: new, then returning", cocobase_google)
check("Cocobase login_with_google refuses an ID token for another client (401)",
      cocobase_google_refuses_other_audience)
check("Cocobase login_with_github with a code from the provider: new, then returning", cocobase_github)


# ---------------------------------------------------------------- urBackend
def social_sign_in(provider, who):
    """The SDK's start URL, the provider, the server's callback: the app's
    `/auth/callback` query and fragment."""
    start = UrBackendClient(api_key=PK, base=BASE_URL).auth.social_start_url(provider)
    to_provider = redirect_of(start)
    callback = f"{BASE_URL}/api/userAuth/social/{provider}/callback"
    back = follow(to_provider, who, target=callback)
    landing = redirect_of(f"{callback}?{urllib.parse.urlencode(back)}")
    expect(landing.startswith(f"{SITE}/auth/callback?"), f"landed on {landing[:120]!r}")
    parts = urllib.parse.urlsplit(landing)
    return dict(urllib.parse.parse_qsl(parts.query)), dict(urllib.parse.parse_qsl(parts.fragment))


for provider in ("mock", "google", "github"):
    who = account(f"{provider}-ub")

    def social(provider=provider, who=who):
        ids = []
        for is_new in ("true", "false"):
            query, fragment = social_sign_in(provider, who)
            expect("error" not in query, f"the callback refused: {query}")
            expect_eq(query.get("provider"), provider, "provider")
            expect_eq(query.get("isNewUser"), is_new, "isNewUser")
            c = UrBackendClient(api_key=PK, base=BASE_URL)
            session = c.auth.social_exchange(query["rtCode"], fragment["token"])
            expect(session.get("refreshToken"), f"no refresh token: {session}")
            me = c.auth.me(fragment["token"])
            expect_eq(me.get("email"), who["email"], "me.email with the callback's token")
            expect_eq(me.get("_id") or me.get("id"), query.get("userId"), "me id = the callback's userId")
            fresh = c.auth.refresh_token(session["refreshToken"])
            expect(fresh.get("accessToken"), f"refresh_token gave no access token: {fresh}")
            expect_eq(c.auth.me(fresh["accessToken"]).get("email"), who["email"], "me with the refreshed token")
            ids.append(query.get("userId"))
            # The rtCode is single use.
            try:
                c.auth.social_exchange(query["rtCode"], fragment["token"])
            except Exception:  # noqa: BLE001 - the SDK's AuthError (or another refusal)
                pass
            else:
                raise CheckFailed("the rtCode was accepted a second time")
        expect_eq(ids[1], ids[0], "the returning user's id")

    check(f"urBackend social sign-in with `{provider}` (start, provider, callback, exchange): new, then returning",
          social)

finish()
