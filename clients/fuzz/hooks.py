"""schemathesis hooks for clients/fuzz/schemathesis.sh (loaded through
SCHEMATHESIS_HOOKS): a strategy for the schema's `JSON` scalar, and the check
that holds /graphql to the house's error contract.

schemathesis's own GraphQL server-error check counts every resolver error
without an Apollo or graphql-java client marker as a server failure, and an
authentication server refuses most fuzzed input by design (`UNAUTHENTICATED`,
`VALIDATION`, `INVALID_CREDENTIALS`, ...). What must never happen is a 5xx, an
error without a stable code, or an `INTERNAL` one (a bug, logged server side).
"""
import re

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Profile data, filter values, WebAuthn credentials: any JSON value, written
# as a GraphQL literal.
_leaf = st.one_of(
    st.none().map(lambda _: nodes.Null),
    st.booleans().map(nodes.Boolean),
    st.integers(min_value=-(2**53), max_value=2**53).map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    st.text(max_size=40).map(nodes.String),
)
_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


def _object(children):
    import graphql

    return st.dictionaries(_names, children, max_size=5).map(
        lambda d: nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in d.items()])
    )


_json = st.recursive(_leaf, lambda children: st.one_of(st.lists(children, max_size=5).map(nodes.List), _object(children)), max_leaves=12)
schemathesis.graphql.scalar("JSON", _json)
# A file travels in a multipart request; in a JSON one an `Upload` is null.
schemathesis.graphql.scalar("Upload", st.just(nodes.Null))

_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@schemathesis.check
def graphql_error_contract(ctx, response, case):
    """No 5xx; every GraphQL error carries a stable `extensions.code`, never `INTERNAL`."""
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError(f"not JSON ({response.headers.get('content-type')}): {response.text[:300]}")
    if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
        raise AssertionError(f"not a GraphQL response: {response.text[:300]}")
    for error in payload.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise AssertionError(f"an error without a stable code: {error}")
        if code == "INTERNAL":
            raise AssertionError(f"an internal error: {error}")
