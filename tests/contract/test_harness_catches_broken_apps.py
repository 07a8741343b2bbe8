"""The harness itself: pointed at a simulator whose answers are broken on the way out (a WSGI
middleware, after the simulator's own response validation), it reports each break under the
check that owns it, with a reproduction."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from werkzeug.wrappers import Request, Response

from pismo_sandbox.contracts import harness
from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config

QUICK = {"examples": 10, "phases": ("examples", "coverage", "fuzzing")}


def broken(app, change):
    """``app`` with ``change(request, response)`` applied to every answer."""

    def wsgi(environ, start_response):
        request = Request(environ)
        response = Response.from_app(app, environ, buffered=True)
        change(request, response)
        return response(environ, start_response)

    return wsgi


def _json(response: Response):
    return json.loads(response.get_data() or b"null")


def _set_json(response: Response, body) -> None:
    response.set_data(json.dumps(body))


@pytest.fixture
def simulator(tmp_path):
    return create_app(Config(db_path=str(tmp_path / "sandbox.db")))


def _findings(result, check: str, operation: str) -> list:
    assert not result.errors, result.errors
    return [f for f in result.findings if f.check == check and f.operation == operation]


def test_a_correct_simulator_passes_the_same_quick_run(simulator):
    result = harness.run(app=simulator, specs=["banking-auth", "passport"], **QUICK)
    assert result.ok, result.summary()


def test_a_wrong_status_is_reported_by_status_code_conformance(simulator):
    def created_is_200(request, response):
        if request.path == "/banking-auth/v1/credentials" and response.status_code == 201:
            response.status_code = 200

    result = harness.run(app=broken(simulator, created_is_200), specs=["banking-auth"], **QUICK)
    [finding, *_] = _findings(result, "status_code_conformance", "POST /banking-auth/v1/credentials")
    assert finding.status_code == 200 and "200" in finding.message
    assert finding.reproduce and "/banking-auth/v1/credentials" in finding.reproduce
    assert not result.ok and "status_code_conformance" in result.summary()


def test_an_extra_field_where_additional_properties_are_false_is_reported(simulator):
    def chatty_validate(request, response):
        if request.method == "POST" and request.path.endswith("/bankslips/validate") and response.status_code == 200:
            _set_json(response, {**_json(response), "surprise": True})

    result = harness.run(app=broken(simulator, chatty_validate), specs=["integrated-payments-validate"], **QUICK)
    findings = _findings(result, "response_schema_conformance", "POST /integrated-payments/v1/bankslips/validate")
    assert findings and "surprise" in findings[0].message


def test_a_missing_x_cid_is_reported_by_the_custom_check(simulator):
    def no_cid(request, response):
        response.headers.pop("x-cid", None)

    result = harness.run(app=broken(simulator, no_cid), specs=["passport"], **QUICK)
    findings = _findings(result, "response_has_x_cid", "POST /passport/v2/s2s/access-token")
    assert findings and "x-cid" in findings[0].message


def test_an_undocumented_error_code_is_reported(simulator):
    def invented_code(request, response):
        if request.method == "POST" and request.path == "/banking-auth/v1/credentials" and response.status_code == 400:
            _set_json(response, {**_json(response), "code": "EBAA9999"})

    result = harness.run(app=broken(simulator, invented_code), specs=["banking-auth"], **QUICK)
    findings = _findings(result, "documented_error_envelope", "POST /banking-auth/v1/credentials")
    assert findings and "EBAA9999" in findings[0].message and "EBAA0004" in findings[0].message


def test_an_error_body_outside_the_envelope_is_reported(simulator):
    def stack_trace(request, response):
        if request.method == "POST" and request.path == "/banking-auth/v1/credentials" and response.status_code == 400:
            _set_json(response, {**_json(response), "trace": "Traceback (most recent call last)"})

    result = harness.run(app=broken(simulator, stack_trace), specs=["banking-auth"], **QUICK)
    findings = _findings(result, "documented_error_envelope", "POST /banking-auth/v1/credentials")
    assert findings and "trace" in findings[0].message


def test_a_replayed_pay_that_answers_another_body_is_reported(simulator):
    def forgetful_idempotency(request, response):
        if request.path.endswith("/bankslips/pay") and response.headers.get("x-idempotency-replayed"):
            body = _json(response)
            _set_json(response, {**body, "authorization_id": body["authorization_id"] + 1})

    result = harness.run(
        app=broken(simulator, forgetful_idempotency),
        specs=["integrated-payments", "integrated-payments-validate"],
        **QUICK,
    )
    findings = _findings(result, "idempotent_replay_returns_same_body", "POST /integrated-payments/v1/bankslips/pay")
    assert findings and "replay" in findings[0].message


# Run in a process of its own: which paths the stateful phase walks depends on what the test
# process ran before (the same run in a fresh process walks the same paths every time).
DELETE_REMOVES_NOTHING = """
import json, re, sys
from werkzeug.wrappers import Response
from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contracts import harness

simulator = create_app(Config(db_path=sys.argv[1]))
resource = re.compile(r"^/intl-bankaccounts/v2/accounts/[^/]+/bank-accounts/[^/]+$")

def delete_removes_nothing(environ, start_response):
    if environ["REQUEST_METHOD"] == "DELETE" and resource.match(environ["PATH_INFO"]):
        response = Response.from_app(simulator, {**environ, "REQUEST_METHOD": "GET"}, buffered=True)
        if response.status_code == 200:  # it exists: say it was deleted, and keep it
            response.status_code = 204
            response.set_data(b"")
            del response.headers["Content-Type"]
        return response(environ, start_response)
    return simulator(environ, start_response)

result = harness.run(app=delete_removes_nothing, specs=["intl-bankaccounts", "intl-bankaccounts-read"],
                     examples=12, phases=("stateful",))
print(json.dumps({"ok": result.ok, "errors": result.errors, "forgiven": result.forgiven,
                  "findings": [[f.check, f.operation, f.message] for f in result.findings]}))
"""


def test_a_bank_account_still_readable_after_its_delete_is_reported_as_use_after_free(tmp_path):
    """A real use_after_free (the DELETE answers 204 but removes nothing) is reported: the
    harness forgives only a read of a resource registered again after its DELETE."""
    script = tmp_path / "delete_removes_nothing.py"
    script.write_text(DELETE_REMOVES_NOTHING)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "sandbox.db")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    read = "GET /intl-bankaccounts/v2/accounts/{accountId}/bank-accounts/{schemeName}"
    messages = [
        message for check, operation, message in result["findings"] if check == "use_after_free" and operation == read
    ]
    assert not result["errors"] and not result["ok"]
    assert messages and "404" in messages[0], result
    assert result["forgiven"] == 0


def test_the_junit_report_carries_each_failure(simulator, tmp_path):
    def created_is_200(request, response):
        if request.path == "/banking-auth/v1/credentials" and response.status_code == 201:
            response.status_code = 200

    report = tmp_path / "report.xml"
    harness.run(app=broken(simulator, created_is_200), specs=["banking-auth"], junit=str(report), **QUICK)
    text = report.read_text()
    assert 'failures="1"' in text and 'type="status_code_conformance"' in text
