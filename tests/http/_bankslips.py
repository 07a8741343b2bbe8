"""Helpers for the bank-slip HTTP tests: a frozen clock, boletos from the admin generator, a
provider for the tenant, and the validate -> pay flow, all through the public and admin APIs."""

from __future__ import annotations

import itertools

import pytest

VALIDATE = "/integrated-payments/v1/bankslips/validate"
PAY = "/integrated-payments/v1/bankslips/pay"
RECEIPTS = "/integrated-payments/v1/bankslips/receipts"
MONDAY = "2025-06-02T13:00:00.000Z"  # a Monday, 10:00 in Brasilia; June 3 is a business day

_keys = itertools.count(1)


class BankSlips:
    def __init__(self, client, sandbox):
        self.client = client
        self.sandbox = sandbox

    def set_clock(self, now: str = MONDAY, freeze: bool = True) -> None:
        response = self.client.post("/_sandbox/clock", json={"now": now, "freeze": freeze})
        assert response.status_code == 200, response.json

    def advance(self, seconds: float) -> None:
        self.sandbox.advance_clock(seconds)

    def relogin(self, tenant) -> None:
        """A fresh account token (moving the clock by hours expires the old one)."""
        tenant.token = self.sandbox.login(
            {"server_key": tenant.server_key, "server_secret": tenant.server_secret}, tenant.account_id
        )

    def boleto(self, kind: str = "bank", amount=100.0, **extra) -> dict:
        response = self.client.post("/_sandbox/boletos", json={"kind": kind, "amount": amount, **extra})
        assert response.status_code == 201, response.json
        return response.json

    def use_provider(self, tenant, provider: str = "CELCOIN") -> None:
        """Configure the tenant's provider the way a user would: a credential, or the admin API."""
        if provider == "ITAU":
            response = self.client.put(
                f"/_sandbox/tenants/{tenant.tenant_id}/bankslip-provider", json={"provider": "ITAU"}
            )
            assert response.status_code == 200, response.json
            return
        type_ = "PIX" if provider == "JDPI" else "BAAS"
        body = {"key": f"{provider.lower()}-key", "provider": provider, "type": type_}
        if provider == "BTG":
            body["provider_data"] = {"client_id": "btg-client"}
        response = self.client.post("/banking-auth/v1/credentials", json=body, headers=tenant.headers)
        assert response.status_code == 201, response.json

    def validate(self, tenant, slip: dict, field: str = "bar_code", **overrides):
        body = {"type": slip["type"], field: slip[field], **overrides}
        return self.client.post(VALIDATE, json=body, headers=tenant.headers)

    @staticmethod
    def pay_body(tenant, slip: dict, validation: dict | None = None, **overrides) -> dict:
        body = {
            "account_id": tenant.account_id,
            "amount": (validation or {}).get("amount", slip["amount"]),
            "bankslip": {"type": slip["type"], "bar_code": slip["bar_code"]},
        }
        if validation and "external_authorization" in validation:
            body["external_authorization"] = validation["external_authorization"]
        body.update(overrides)
        return body

    def pay(self, tenant, body: dict, key: str | None = None, headers: dict | None = None):
        key = key if key is not None else f"key-{next(_keys)}"
        return self.client.post(PAY, json=body, headers={**tenant.headers, "x-idempotency-key": key, **(headers or {})})

    def validated(self, tenant, slip: dict) -> dict:
        response = self.validate(tenant, slip)
        assert response.status_code == 200, response.json
        return response.json

    def paid(self, tenant, key: str | None = None, headers: dict | None = None, **boleto):
        """Generate, validate and pay a boleto: (slip, pay response)."""
        slip = self.boleto(**boleto)
        validation = self.validated(tenant, slip)
        response = self.pay(tenant, self.pay_body(tenant, slip, validation), key=key, headers=headers)
        assert response.status_code == 202, response.json
        return slip, response

    def payments(self, tenant, **query) -> list[dict]:
        response = self.client.get("/_sandbox/bankslips", query_string={"tenant_id": tenant.tenant_id, **query})
        assert response.status_code == 200, response.json
        return response.json["items"]

    def events(self, tenant, type_: str | None = None) -> list[dict]:
        query = {"tenant_id": tenant.tenant_id, "limit": 1000}
        if type_:
            query["type"] = type_
        return self.sandbox.events(**query)

    def receipts(self, tenant, **query):
        return self.client.get(RECEIPTS, query_string=query, headers=tenant.headers)


@pytest.fixture
def slips(client, sandbox) -> BankSlips:
    helper = BankSlips(client, sandbox)
    helper.set_clock()
    return helper


@pytest.fixture
def payer(sandbox, slips):
    """A tenant with a NORMAL account whose provider is Celcoin (returns external_authorization)."""
    tenant = sandbox.tenant()
    slips.use_provider(tenant, "CELCOIN")
    return tenant
