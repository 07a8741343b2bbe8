"""A pay flow over HTTP against a served sandbox: tenant, account, provider, boleto, validate,
pay, and clock moves that settle the payment (authorization, PAID, SETTLED, reconciliation).
The sandbox is set up and read through its admin client (pismo_sandbox.AdminClient)."""

from __future__ import annotations

import uuid

import requests

from pismo_sandbox import AdminClient

MONDAY = "2025-06-02T13:00:00.000Z"
SCHEME = {
    "bank": "60701190",
    "branch": "186",
    "account_number": "1773065291",
    "supplementary_data": {"account_type": "CACC"},
}


class Flow:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False
        self.client = AdminClient(base, session=self.http)

    def call(self, method: str, path: str, **kwargs):
        """A Pismo API call that must succeed; its answer."""
        return self.client.request(method, path, expect=range(200, 300), **kwargs)

    def tenant(self) -> dict:
        tenant = self.client.create_tenant()
        account = self.client.create_account(tenant.tenant_id)
        token = self.client.issue_token(tenant.tenant_id, account["account_id"], ttl_seconds=31_536_000)["token"]
        self.client.set_bankslip_provider(tenant.tenant_id, "BTG")
        return {"tenant_id": tenant.tenant_id, "account_id": account["account_id"], "token": token}

    def register_bank_account(self, tenant: dict) -> None:
        """Register the tenant's account's Brazilian bank account (one intl_bankaccount_register event)."""
        self.call(
            "POST",
            f"/intl-bankaccounts/v2/accounts/{tenant['account_id']}/bank-accounts/brazil",
            headers={"Authorization": f"Bearer {tenant['token']}"},
            json={"scheme": SCHEME},
        )

    def pay(self, tenant: dict) -> None:
        auth = {"Authorization": f"Bearer {tenant['token']}"}
        slip = self.client.generate_boleto("bank", 120.0)
        self.call(
            "POST",
            "/integrated-payments/v1/bankslips/validate",
            headers=auth,
            json={"type": slip["type"], "bar_code": slip["bar_code"]},
        )
        self.call(
            "POST",
            "/integrated-payments/v1/bankslips/pay",
            headers={**auth, "x-idempotency-key": str(uuid.uuid4())},
            json={
                "account_id": tenant["account_id"],
                "amount": 120.0,
                "bankslip": {"type": slip["type"], "bar_code": slip["bar_code"]},
            },
        )

    def freeze(self) -> None:
        self.client.freeze_clock(MONDAY)

    def advance(self, seconds: float) -> None:
        self.client.advance_clock(seconds)

    def settle(self) -> None:
        self.advance(60)  # PROCESSING -> PAID
        self.advance(7 * 86400)  # PAID -> SETTLED, and the reconciliation

    def events(self, tenant_id: str | None = None) -> list[dict]:
        return self.client.events(tenant_id=tenant_id, limit=1000)

    def deliveries(self, **params) -> list[dict]:
        return self.client.deliveries(**{"limit": 1000, **params})

    def subscribe(self, url: str, fmt: str = "pismo", **extra) -> dict:
        return self.client.subscribe(url, fmt, **extra)
