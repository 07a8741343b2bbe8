"""Every route is validated both ways: bad requests get the documented error, and a response
the contract does not allow is caught and answered 500 (a simulator bug)."""

from __future__ import annotations

import logging

import pytest

from pismo_sandbox.contract.operations import CheckedRequest, Contract, load_contract
from pismo_sandbox.handlers import Reply

OPERATIONS = sorted(load_contract().operations.values(), key=lambda op: op.operation_id)


def _url(op, tenant) -> str:
    values = {
        "accountId": tenant.account_id,
        "tenant_id": tenant.tenant_id,
        "account_id": tenant.account_id,
        "schemeName": "BRAZIL",
    }
    url = op.url_path
    for name, value in values.items():
        url = url.replace("{" + name + "}", str(value))
    return url


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_a_response_that_breaks_the_contract_is_answered_500(app, client, tenant, op, caplog, monkeypatch):
    app.wsgi_app.handlers[op.operation_id] = lambda ctx: Reply({"surprise": True}, 299)
    # Let every request through to the (replaced) handler: this test is about the way out.
    monkeypatch.setattr(Contract, "check_request", lambda self, op, request: CheckedRequest())
    caplog.set_level(logging.ERROR)
    headers = {**tenant.headers, "x-idempotency-key": "k-1"}
    response = (
        client.open(_url(op, tenant), method=op.method, json={}, headers=headers)
        if op.method in {"POST", "PATCH", "PUT"}
        else client.open(_url(op, tenant), method=op.method, headers=headers)
    )
    assert response.status_code == 500
    assert response.json["code"] == "SANDBOX_CONTRACT_VIOLATION"
    assert op.operation_id in response.json["details"]
    assert "response breaks the contract" in caplog.text


def test_broken_credentials_response_is_journaled_as_response_invalid(app, client, sandbox, tenant):
    app.wsgi_app.handlers["post-credentials"] = lambda ctx: Reply({"unexpected": 1}, 201)
    response = client.post(
        "/banking-auth/v1/credentials", json={"key": "k", "provider": "BTG", "type": "PIX"}, headers=tenant.headers
    )
    assert response.status_code == 500
    [entry] = sandbox.journal(limit=1)
    assert entry["verdict"] == "response_invalid" and entry["status"] == 500


def test_broken_server_login_response_is_caught(app, client, sandbox):
    app.wsgi_app.handlers["post-passport-v2-s2s-access-token"] = lambda ctx: Reply({"tenant": "x"})  # no token
    response = client.post("/passport/v2/s2s/access-token", json={"server_key": "a", "server_secret": "b"})
    assert response.status_code == 500
    assert "token" in response.json["details"]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.has_body], ids=lambda op: op.operation_id)
def test_malformed_json_gets_the_operations_documented_error(client, tenant, op):
    headers = {**tenant.headers, "x-idempotency-key": "k-1"}
    response = client.open(
        _url(op, tenant), method=op.method, data="{oops", content_type="application/json", headers=headers
    )
    assert 400 <= response.status_code < 500
    assert str(response.status_code) in op.declared_statuses
    assert response.json["code"] == op.errors.get("malformed").code
    assert response.headers["x-cid"]


def test_details_name_the_field_and_rule_not_the_value(client, tenant):
    response = client.post(
        "/banking-auth/v1/credentials",
        json={"key": ["s3cr3t"], "provider": "BTG", "type": "PIX"},
        headers=tenant.headers,
    )
    assert response.json["details"] == "key: must be a string"


def test_nested_missing_fields_are_named_with_their_path(client):
    response = client.post("/_sandbox/tokens", json={})
    assert response.status_code == 400
    assert response.json["details"] == "tenant_id: is required"


def test_an_invalid_path_parameter_is_named_in_details(client, sandbox):
    response = client.get("/_sandbox/tenants/has space")
    assert response.status_code == 400
    assert response.json["details"].startswith("path parameter tenant_id: must match")


@pytest.mark.parametrize(
    "url",
    [
        "/_sandbox/events?after=10182253438594552945837080576",
        "/_sandbox/journal?after=99999999999999999999",
    ],
)
def test_integers_beyond_64_bits_are_a_client_mistake_not_a_500(client, url):
    assert client.get(url).status_code == 400


def test_a_64_bit_overflow_the_schema_allows_is_still_invalid(client, tenant):
    response = client.get(
        "/integrated-payments/v1/bankslips/receipts?authorizationId=99999999999999999999", headers=tenant.headers
    )
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert response.json["details"] == "query parameter authorizationId: must fit in a 64-bit integer"
    body = {"account_id": 10**30, "amount": 1, "bankslip": {"type": 1, "bar_code": "1" * 44}}
    response = client.post(
        "/integrated-payments/v1/bankslips/pay", json=body, headers={**tenant.headers, "x-idempotency-key": "k"}
    )
    assert response.status_code == 400 and response.json["details"] == "account_id: must fit in a 64-bit integer"
