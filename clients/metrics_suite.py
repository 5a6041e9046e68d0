"""Prometheus metrics read by Prometheus' own Python client: the exposition
parses with `prometheus_client`'s strict parsers (OpenMetrics, which Prometheus
asks for, and the classic text format), every family is `authgraph_…` with a
known type, and counters move with requests: a failed log-in moves the
password failure counter and the GraphQL route's latency histogram.

Environment: BASE_URL (no trailing slash), PK (publishable key),
METRICS_TOKEN (the server's AUTHGRAPH_METRICS_TOKEN).
Prints `ok - name` / `FAIL - name: reason` per check, then `N passed, M failed`.
"""
import os
import urllib.error
import urllib.request
import uuid

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as classic

from harness import check, expect, expect_eq, finish, gql

BASE_URL = os.environ["BASE_URL"].rstrip("/")
TOKEN = os.environ["METRICS_TOKEN"]
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
EMAIL = f"metrics-{uuid.uuid4().hex[:12]}@example.com"


def scrape(accept=None, token=TOKEN):
    req = urllib.request.Request(f"{BASE_URL}/metrics")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.headers.get("Content-Type", ""), res.read().decode()


def samples(families):
    """{(name, sorted labels): value} of every sample."""
    out = {}
    for family in families:
        expect(family.name.startswith("authgraph_"), f"unprefixed family {family.name}")
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def token_required():
    try:
        scrape(token=None)
    except urllib.error.HTTPError as e:
        expect_eq(e.code, 401, "status without the token")
        return
    raise AssertionError("/metrics answered without the token")


def parses_as_openmetrics():
    content_type, text = scrape(OPENMETRICS)
    expect(content_type.startswith("application/openmetrics-text"), content_type)
    families = list(openmetrics(text))
    types = {f.name: f.type for f in families}
    expect_eq(types.get("authgraph_auth_attempts"), "counter", "auth attempts type")
    expect_eq(types.get("authgraph_http_request_duration_seconds"), "histogram", "latency type")
    expect_eq(types.get("authgraph_db_pool_connections"), "gauge", "pool type")
    expect_eq(types.get("authgraph_mail_outbox_pending"), "gauge", "outbox type")


def parses_as_classic_text():
    content_type, text = scrape()
    expect(content_type.startswith("text/plain; version=0.0.4"), content_type)
    expect(len(samples(classic(text))) > 10, "too few samples")


def counters_move():
    failure = ("authgraph_auth_attempts_total", (("method", "password"), ("outcome", "failure")))
    route = (
        "authgraph_http_request_duration_seconds_count",
        (("door", "graphql"), ("method", "POST"), ("route", "/graphql"), ("status", "200")),
    )
    before = samples(openmetrics(scrape(OPENMETRICS)[1]))
    reply = gql(
        "mutation($i: LogInInput!) { logIn(input: $i) { token } }",
        {"i": {"email": EMAIL, "password": "not the password"}},
    )
    expect(reply.get("errors"), "a log-in of an unknown email succeeded")
    after = samples(openmetrics(scrape(OPENMETRICS)[1]))
    # Other suites may run against this server: at least one more, counted here.
    expect(after.get(failure, 0) >= before.get(failure, 0) + 1, f"failures {before.get(failure)} -> {after.get(failure)}")
    expect(after.get(route, 0) >= before.get(route, 0) + 1, f"graphql requests {before.get(route)} -> {after.get(route)}")


check("/metrics refuses a scrape without its bearer token (401)", token_required)
check("a failed log-in moves the failure counter and the route's histogram", counters_move)
# After a log-in, so that every family named below has a sample.
check("the exposition parses with prometheus_client's OpenMetrics parser", parses_as_openmetrics)
check("the classic text format parses with prometheus_client's parser", parses_as_classic_text)
finish()
