"""The compiled validators never accept what openapi-core rejects.

The hot path checks requests and responses with jsonschema-rs; openapi-core remains the
authority whenever the compiled check is unsure. The one thing that must never happen is the
compiled check accepting something openapi-core would refuse: these properties hunt for it with
bodies built from each schema's own field names and arbitrary JSON.
"""

from __future__ import annotations

import functools
import json

import pytest
from flask import Flask, Response, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_core.contrib.flask import FlaskOpenAPIRequest
from werkzeug.routing import Map, Rule

from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.validation import resolve_ref as _resolve

CONTRACT = load_contract()
OPERATIONS = sorted(CONTRACT.operations.values(), key=lambda op: op.operation_id)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["", "0", "2024-01-01T00:00:00Z", "BTG", "PIX", "BRAZIL", "NORMAL", "CACC", "00000000", "0186"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _field_names(document: dict, schema, depth: int = 0) -> set[str]:
    schema = _resolve(document, schema)
    names: set[str] = set()
    if not isinstance(schema, dict) or depth > 4:
        return names
    for name, sub in schema.get("properties", {}).items():
        names.add(name)
        names |= _field_names(document, sub, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            names |= _field_names(document, sub, depth + 1)
    return names


def _shaped(names: list[str]):
    """Objects using the schema's own field names, nested, with arbitrary values."""
    leaf = st.one_of(scalars, st.dictionaries(st.sampled_from(names), scalars, max_size=4))
    return st.dictionaries(
        st.sampled_from(names),
        st.one_of(leaf, st.dictionaries(st.sampled_from(names), leaf, max_size=4)),
        max_size=len(names) + 1,
    )


def _body_schema(op):
    spec = CONTRACT.documents[op.spec]["paths"][op.path][op.method.lower()]
    body = _resolve(CONTRACT.documents[op.spec], spec["requestBody"])
    return body["content"]["application/json"]["schema"]


APP = Flask(__name__)


def _path_for(op) -> str:
    return (
        op.url_path.replace("{", "").replace("}", "")
        if "{" not in op.url_path
        else op.url_path.replace("{accountId}", "100000001")
        .replace("{schemeName}", "BRAZIL")
        .replace("{tenant_id}", "TN-a")
        .replace("{account_id}", "7")
        .replace("{fault_id}", "f-1")
    )


def _rule_for(op):
    return _bound_rule(op.flask_rule, op.method)


@functools.cache
def _bound_rule(flask_rule: str, method: str):
    """An operation's URL rule, bound: compiled once per operation, not once per example."""
    return Map([Rule(flask_rule, methods=[method])]).bind("localhost")


def _request_verdicts(op, body, core_only_if_accepted: bool = False) -> tuple[bool, bool | None]:
    """(compiled accepts, openapi-core accepts) for a request with this body. With
    ``core_only_if_accepted``, openapi-core is asked only when the compiled check accepts (None
    otherwise): a body the compiled check refuses goes to openapi-core when served anyway, so
    only an acceptance can break the property."""
    data = json.dumps(body)
    headers = {"Authorization": "Bearer x", "x-idempotency-key": "k"}
    with APP.test_request_context(
        _path_for(op), method=op.method, data=data, content_type="application/json", headers=headers
    ):
        request.url_rule, request.view_args = _rule_for(op).match(_path_for(op), method=op.method, return_rule=True)
        fast = op.compiled.check_request(request) is not None
        if core_only_if_accepted and not fast:
            return fast, None
        core = not op.api.unmarshal_request(FlaskOpenAPIRequest(request)).errors
    return fast, core


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.has_body], ids=lambda op: op.operation_id)
def test_compiled_request_check_never_accepts_what_openapi_core_rejects(op):
    names = sorted(_field_names(CONTRACT.documents[op.spec], _body_schema(op))) or ["x"]
    accepted = {"n": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=st.one_of(json_values, _shaped(names)))
    def check(body):
        fast, core = _request_verdicts(op, body, core_only_if_accepted=True)
        assert not (fast and not core), f"compiled check accepted a body openapi-core refuses: {body!r}"
        accepted["n"] += fast

    check()


def _response_statuses(op):
    spec = CONTRACT.documents[op.spec]["paths"][op.path][op.method.lower()]
    return [int(s) for s in spec["responses"] if str(s).isdigit()]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_compiled_response_check_never_accepts_what_openapi_core_rejects(op):
    statuses = _response_statuses(op)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(status=st.sampled_from(statuses + [299]), body=st.one_of(json_values, st.none()))
    def check(status, body):
        data = b"" if body is None else json.dumps(body).encode()
        response = Response(data, status=status, mimetype="application/json")
        with APP.test_request_context(_path_for(op), method=op.method, headers={"Authorization": "Bearer x"}):
            request.url_rule, request.view_args = _rule_for(op).match(_path_for(op), method=op.method, return_rule=True)
            fast = op.compiled.response_conforms(response)
            # Only an acceptance can break the property: openapi-core judges the rest when served.
            core = fast and not CONTRACT.core_response_problems(op, request, response)
        assert not (fast and not core), (status, body)

    check()


def test_the_compiled_path_accepts_ordinary_good_requests():
    op = CONTRACT.by_id["post-credentials"]
    assert _request_verdicts(
        op, {"key": "k", "provider": "BTG", "type": "PIX", "provider_data": {"client_id": "c"}}
    ) == (True, True)
