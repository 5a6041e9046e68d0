"""The checks' harness shared by the Python suites: `check` runs one named
check (any exception fails it, the suite goes on), `expect`/`expect_eq`
assert, and `finish` prints `N passed, M failed` and exits 1 on a failure."""
import os
import sys
import traceback

passed = 0
failed = 0
# How a crash is described (a suite sets its SDK's error shape with `describe`).
_detail = lambda exc: str(exc)[:300]  # noqa: E731


def describe(fn):
    """Sets how an unexpected exception is described in a FAIL line."""
    global _detail
    _detail = fn


class CheckFailed(Exception):
    pass


def check(name, fn):
    """Runs one check; any exception makes it fail, the suite always goes on."""
    global passed, failed
    try:
        fn()
    except CheckFailed as exc:
        failed += 1
        print(f"FAIL - {name}: {exc}", flush=True)
    except Exception as exc:  # noqa: BLE001 - a crash is a failed check
        failed += 1
        where = traceback.extract_tb(exc.__traceback__)[-1]
        print(
            f"FAIL - {name}: {type(exc).__name__}: {_detail(exc)} "
            f"(at {os.path.basename(where.filename)}:{where.lineno})",
            flush=True,
        )
    else:
        passed += 1
        print(f"ok - {name}", flush=True)


def expect(cond, message):
    if not cond:
        raise CheckFailed(message)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


def finish():
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


def gql(query, variables=None, token=None):
    """POST $BASE_URL/graphql with the publishable key $PK (and a bearer token); the reply."""
    import json
    import urllib.request

    req = urllib.request.Request(
        f"{os.environ['BASE_URL'].rstrip('/')}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json", "x-api-key": os.environ["PK"]},
        method="POST",
    )
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.load(res)
