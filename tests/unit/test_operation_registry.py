"""The operation is the unit: every bundled operation has exactly one handler, its URL rule comes
from the spec, handlers answer through one renderer, and the request path keeps no string keys
on flask.g."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask

import pismo_sandbox
from pismo_sandbox import app as app_module  # noqa: F401 (imports every handler module)
from pismo_sandbox.contract import load_contract
from pismo_sandbox.handlers import HANDLERS, Reply, mount, operation, render, unhandled
from pismo_sandbox.request_context import RequestContext


def test_every_bundled_operation_has_a_handler_and_every_handler_names_a_bundled_operation():
    contract = load_contract()
    assert unhandled(contract) == []
    assert sorted(HANDLERS) == sorted(contract.by_id)


def test_each_operation_gets_one_url_rule_from_its_spec_path_under_the_document_base_path(app):
    contract = load_contract()
    rules = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.endpoint, []).append(rule)
    for op in contract.by_id.values():
        (rule,) = rules[op.operation_id]
        assert rule.rule == op.flask_rule == op.url_path.replace("{", "<").replace("}", ">")
        assert op.method in rule.methods
        assert contract.match(op.method, rule.rule) is op
    # Besides the operations, only the dashboard and Flask's static files are routed.
    others = {endpoint for endpoint in rules if endpoint not in contract.by_id}
    assert all(endpoint == "static" or endpoint.startswith("dashboard.") for endpoint in others)


def test_a_second_handler_for_an_operation_is_refused():
    before = HANDLERS["post-credentials"]
    with pytest.raises(ValueError, match="post-credentials already has a handler"):
        operation("post-credentials")(lambda ctx: Reply())
    assert HANDLERS["post-credentials"] is before


def test_an_app_is_not_built_with_an_operation_left_unhandled_or_a_handler_of_no_operation():
    contract = load_contract()
    missing_one = {op_id: handler for op_id, handler in HANDLERS.items() if op_id != "sandbox-health"}
    with pytest.raises(LookupError, match="sandbox-health"):
        mount(Flask("missing"), contract, missing_one)
    stray = {**HANDLERS, "no-such-operation": lambda ctx: Reply()}
    with pytest.raises(LookupError, match="no-such-operation"):
        mount(Flask("stray"), contract, stray)


@pytest.mark.parametrize(
    "reply, status, content_type, data",
    [
        (Reply({"a": 1}, 201, headers={"x-extra": "1"}), 201, "application/json", {"a": 1}),
        (Reply([1, 2]), 200, "application/json", [1, 2]),
        (Reply(None, 204), 204, None, b""),
        (Reply(raw=b'{"kept":"as sent"}', status=202), 202, "application/json", b'{"kept":"as sent"}'),
        (Reply(raw="-----BEGIN-----\n", mimetype="text/plain"), 200, "text/plain; charset=utf-8", b"-----BEGIN-----\n"),
    ],
)
def test_one_renderer_turns_every_reply_into_a_response(app, reply, status, content_type, data):
    with app.app_context():
        response = render(reply)
    assert response.status_code == status
    assert response.headers.get("Content-Type") == content_type
    assert (response.get_json() if isinstance(data, (dict, list)) else response.get_data()) == data
    for name, value in reply.headers.items():
        assert response.headers[name] == value


def test_the_context_exposes_the_validated_inputs_and_is_empty_before_validation():
    from pismo_sandbox.contract import CheckedRequest

    ctx = RequestContext(sandbox=None, started=0.0)  # type: ignore[arg-type]
    assert (ctx.path, ctx.query, ctx.headers, ctx.body) == ({}, {}, {}, None)
    ctx.checked = CheckedRequest(body={"k": 1}, path={"accountId": 5}, query={"limit": 3}, header={"h": "v"})
    assert (ctx.path, ctx.query, ctx.headers, ctx.body) == ({"accountId": 5}, {"limit": 3}, {"h": "v"}, {"k": 1})


def test_no_module_but_the_request_context_touches_flask_g():
    root = Path(pismo_sandbox.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.name == "request_context.py" and path.parent == root:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "flask"
                and any(alias.name == "g" for alias in node.names)
            ):
                offenders.append(str(path.relative_to(root)))
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "g"
                and isinstance(node.value, ast.Name)
                and node.value.id == "flask"
            ):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
