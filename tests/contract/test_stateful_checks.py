"""The harness's stateful checks: they pass against the simulator and report each thing a
stateless mock (answering every operation with its documented example, as `prism mock` does)
gets wrong."""

from __future__ import annotations

import re
import threading
from decimal import Decimal

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.contracts import harness, stateful_checks
from pismo_sandbox.contracts.stateful_checks import Conversation
from tests.spec_examples import example_of, resolve

ACCOUNT = 7989342
PISMO_SPECS = [
    "passport",
    "banking-auth",
    "intl-bankaccounts",
    "intl-bankaccounts-read",
    "integrated-payments",
    "integrated-payments-validate",
    "integrated-payments-receipts",
]


# -- a stateless target: every operation answers its documented example --------------------------


def stateless_app() -> Flask:
    app = Flask("stateless-mock")
    routes = []
    for name, document in load_contract().documents.items():
        if name not in PISMO_SPECS:
            continue
        base = document["servers"][0]["url"].rstrip("/")
        for path, item in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base + path)) + "$")
            for method, operation in item.items():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                status = min(code for code in operation["responses"] if code.startswith("2"))
                content = resolve(document, operation["responses"][status]).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                body = example_of(document, schema) if schema else None
                routes.append((method.upper(), pattern, int(status), body))

    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def answer(path):
        for method, pattern, status, body in routes:
            if method == request.method and pattern.match("/" + path):
                response = jsonify(body) if body is not None else Response(status=status)
                response.status_code = status
                response.headers["x-cid"] = "mock-cid"
                return response
        return jsonify({"code": "NOT_FOUND", "message": "Not found"}), 404

    return app


@pytest.fixture(scope="module")
def stateless_url():
    server = make_server("127.0.0.1", 0, stateless_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_the_harness_reports_every_stateful_failure_of_a_stateless_mock(stateless_url):
    result = harness.run(
        base_url=stateless_url,
        specs=PISMO_SPECS,
        examples=1,
        phases=("examples",),
        credentials=harness.Credentials(token="mock-token", account_id=ACCOUNT),
    )
    reported = {finding.check: finding.message for finding in result.findings if finding.phase == "stateful checks"}
    assert set(reported) == set(stateful_checks.NAMES), result.summary()
    # Each is reported for what the mock got wrong, not for a set-up it could not follow.
    assert "was answered 202 and then 202" in reported["idempotency_key_binds_its_request"]
    assert "registered twice, 201 both times" in reported["bank_account_registered_once"]
    assert "differs in bank, branch, account_number" in reported["bank_account_reads_back_as_registered"]
    assert "does not describe the payment asked for" in reported["pay_answer_echoes_its_request"]
    assert "a slip nobody validated was paid" in reported["pay_needs_a_validation"]
    assert (
        "no payment has list" in reported["receipts_list_real_payments"]
        or "list 1 item(s), authorization ids" in reported["receipts_list_real_payments"]
    )
    assert not result.ok


# -- the simulator passes them -------------------------------------------------------------------


def test_the_simulator_passes_every_stateful_check(app, sandbox, tenant):
    client = app.test_client()
    assert (
        client.put(f"/_sandbox/tenants/{tenant.tenant_id}/bankslip-provider", json={"provider": "CELCOIN"}).status_code
        == 200
    )
    counter = iter(range(10**6))

    def call(method, path, body=None, headers=None):
        response = client.open(path, method=method, json=body, headers={**tenant.headers, **(headers or {})})
        return response.status_code, response.get_json(silent=True)

    def boleto(amount: Decimal, kind: str = "bank") -> dict:
        return client.post("/_sandbox/boletos", json={"kind": kind, "amount": float(amount)}).json

    talk = Conversation(
        call=call, boleto=boleto, account_id=tenant.account_id, unique=lambda prefix: f"{prefix}-{next(counter)}"
    )
    outcomes = stateful_checks.run_checks(talk, {c.operation_id for c in stateful_checks.CHECKS})
    assert [(check.name, failure) for check, failure in outcomes] == [(name, None) for name in stateful_checks.NAMES]
