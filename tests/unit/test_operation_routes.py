"""The dispatcher's own routing of operations agrees with werkzeug's: whenever it takes a request
as an operation's, werkzeug would route it to that operation's rule with the same arguments; and
every operation's path is taken (what it leaves to Flask is only what it is unsure of)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st
from werkzeug.exceptions import HTTPException

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.core import EXTENSION
from pismo_sandbox.dispatch import OperationRoutes

APP = create_app(Config(db_path=":memory:"))
CONTRACT = APP.extensions[EXTENSION].contract
ROUTES = OperationRoutes(APP.url_map.iter_rules(), CONTRACT.by_id)
RULES = [rule.rule for rule in APP.url_map.iter_rules()]
SEGMENTS = sorted({part for rule in RULES for part in re.split(r"[/<>]", rule) if part})
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _werkzeug(method: str, path: str):
    try:
        rule, args = APP.url_map.bind("localhost").match(path, method, return_rule=True)
    except HTTPException:
        return None
    return (rule, args) if rule.endpoint in CONTRACT.by_id else None


def _environ(method: str, path: str) -> dict:
    # WSGI hands the raw path over as latin-1 text; werkzeug reads it as UTF-8.
    return {"REQUEST_METHOD": method, "PATH_INFO": path.encode("utf-8").decode("latin-1")}


segment = st.one_of(
    st.sampled_from(SEGMENTS),
    st.text(min_size=0, max_size=6),
    st.sampled_from(["BRAZIL", "brazil", "123", "%2F", "é", ".", ""]),
)


@settings(max_examples=600)
@given(
    method=st.sampled_from(METHODS),
    parts=st.lists(segment, min_size=0, max_size=8),
    lead=st.sampled_from(["/", "//"]),
    tail=st.sampled_from(["", "/", "//"]),
)
def test_what_the_dispatcher_routes_werkzeug_routes_alike(method, parts, lead, tail):
    path = lead + "/".join(parts) + tail
    ours = ROUTES.match(_environ(method, path))
    if ours is not None:
        op, rule, args = ours
        theirs = _werkzeug(method, path)
        assert theirs is not None, path
        assert (theirs[0].endpoint, theirs[1]) == (op.operation_id, args)
        assert theirs[0] is rule


@given(data=st.data())
def test_every_operation_path_is_routed_by_the_dispatcher(data):
    op = data.draw(st.sampled_from(sorted(CONTRACT.by_id.values(), key=lambda op: op.operation_id)))
    value = st.text(st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1, max_size=8)
    path = re.sub(r"\{[^}]+\}", lambda _: data.draw(value), op.url_path) + data.draw(st.sampled_from(["", "/"]))
    ours = ROUTES.match(_environ(op.method, path))
    theirs = _werkzeug(op.method, path)
    assert theirs is not None
    assert ours is not None and ours[0] is CONTRACT.by_id[theirs[0].endpoint] and ours[2] == theirs[1]


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/intl-bankaccounts/v2/accounts/7/bank-accounts/brazil"),
        ("POST", "/intl-bankaccounts/v2/accounts/7/bank-accounts/brazil"),
        ("DELETE", "/intl-bankaccounts/v2/accounts/7/bank-accounts/BRAZIL"),
    ],
)
def test_a_static_segment_and_an_argument_route_as_werkzeug_does(method, path):
    op, rule, args = ROUTES.match(_environ(method, path))
    theirs = _werkzeug(method, path)
    assert (op.operation_id, args, rule) == (theirs[0].endpoint, theirs[1], theirs[0])


def test_what_only_flask_serves_is_left_to_flask():
    for method, path in [
        ("HEAD", "/_sandbox/health"),
        ("OPTIONS", "/banking-auth/v1/credentials"),
        ("GET", "/_sandbox/ui/login"),
        ("GET", "/no/such/path"),
        ("PUT", "/banking-auth/v1/credentials"),
    ]:
        assert ROUTES.match(_environ(method, path)) is None
