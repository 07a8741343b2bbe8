"""The published documents' own examples, sent verbatim (with a valid token and existing account
ids), get the documented success: what a client copies from Pismo's pages works."""

from __future__ import annotations

import pytest

from pismo_sandbox.contracts.bundle import SOURCES, parse_document, read_text
from tests.spec_examples import example_of, resolve


def _published(name: str) -> dict:
    source = next(s for s in SOURCES if s.name == name)
    return parse_document(source.filename, read_text(source.filename))


def _request_example(document: dict, path: str, method: str = "post") -> dict:
    operation = document["paths"][path][method]
    schema = resolve(document, operation["requestBody"])["content"]["application/json"]["schema"]
    return example_of(document, schema)


def _header_examples(document: dict, path: str, method: str = "post") -> dict:
    operation = document["paths"][path][method]
    return {
        p["name"]: p["example"]
        for p in (resolve(document, p) for p in operation.get("parameters", []))
        if p["in"] == "header" and "example" in p
    }


@pytest.mark.parametrize("with_provider_data", [True, False])
def test_seed_000_example_request_creates_the_credential(client, tenant, with_provider_data):
    document = _published("banking-auth")
    body = _request_example(document, "/banking-auth/v1/credentials")
    assert (body["provider"], body["type"]) == ("BTG", "PIX")
    if not with_provider_data:
        body.pop("provider_data")
    headers = _header_examples(document, "/banking-auth/v1/credentials")
    headers["account_token"] = tenant.token  # the example is a placeholder: "Your account token"
    response = client.post("/banking-auth/v1/credentials", json=body, headers=headers)
    assert response.status_code == 201 and response.get_data() == b""
    assert response.headers["x-cid"] == headers["tracking_id"]
    [stored] = client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).json["items"]
    assert (stored["provider"], stored["type"]) == ("BTG", "PIX")
    assert stored["client_id"] == (body["provider_data"]["client_id"] if with_provider_data else None)


def test_seed_002_example_request_registers_the_bank_account(client, tenant):
    document = _published("intl-bankaccounts")
    body = _request_example(document, "/v2/accounts/{accountId}/bank-accounts/brazil")
    assert body["scheme"]["bank"] == "76523428"  # not in the bundled ISPB list
    response = client.post(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/brazil", json=body, headers=tenant.headers
    )
    assert response.status_code == 201, response.json
    assert response.json["scheme"] == body["scheme"]
    read = client.get(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/BRAZIL", headers=tenant.headers
    )
    assert read.json["scheme"] == body["scheme"]


def test_seed_003_example_slip_validates_and_pays_under_the_example_key(client, sandbox):
    """Seed 003's body cannot be paid as printed (its 17-digit bar_code is not a slip, and its
    amount is not the slip's: ERRATA, "Contradictions kept as published"); its digitable line,
    its account id, its idempotency key and its external_authorization are used verbatim."""
    document = _published("integrated-payments")
    body = _request_example(document, "/v1/bankslips/pay")
    headers = _header_examples(document, "/v1/bankslips/pay")
    created = sandbox.create_tenant()
    account_id = sandbox.create_account(created["tenant_id"], account_id=body["account_id"])
    token = sandbox.login(created, account_id)
    auth = {"Authorization": f"Bearer {token}"}
    # BTG, as seed 000's example configures it: it returns no external_authorization.
    assert (
        client.post(
            "/banking-auth/v1/credentials",
            headers=auth,
            json={"key": "Tc84Hi3CRyAHFBNIvbc8CuSuvHuGibjf", "provider": "BTG", "type": "BAAS"},
        ).status_code
        == 201
    )
    line = body["bankslip"]["digitable_line"]
    validation = client.post(
        "/integrated-payments/v1/bankslips/validate",
        headers=auth,
        json={"type": body["bankslip"]["type"], "digitable_line": line},
    )
    assert validation.status_code == 200, validation.json
    assert validation.json["amount"] == 502.27
    paid = client.post(
        "/integrated-payments/v1/bankslips/pay",
        headers={**auth, "x-idempotency-key": headers["x-idempotency-key"]},
        json={
            **body,
            "amount": validation.json["amount"],
            "bankslip": {k: v for k, v in body["bankslip"].items() if k != "bar_code"},
        },
    )
    assert paid.status_code == 202, paid.json
    assert (paid.json["account_id"], paid.json["status"]) == (body["account_id"], "PROCESSING")
    assert paid.json["digitable_line"] == line
