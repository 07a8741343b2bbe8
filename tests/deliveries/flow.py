"""A pay flow over HTTP against a served sandbox: tenant, account, provider, boleto, validate,
pay, and clock moves that settle the payment (authorization, PAID, SETTLED, reconciliation)."""

from __future__ import annotations

import uuid

import requests

MONDAY = "2025-06-02T13:00:00.000Z"


class Flow:
    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.trust_env = False

    def admin(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json() if response.content else None

    def tenant(self) -> dict:
        tenant = self.admin("POST", "/_sandbox/tenants", json={})
        account = self.admin("POST", f"/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={})
        token = self.admin("POST", "/_sandbox/tokens", json={"tenant_id": tenant["tenant_id"],
                                                             "account_id": account["account_id"],
                                                             "ttl_seconds": 31_536_000})["token"]
        self.admin("PUT", f"/_sandbox/tenants/{tenant['tenant_id']}/bankslip-provider", json={"provider": "BTG"})
        return {"tenant_id": tenant["tenant_id"], "account_id": account["account_id"], "token": token}

    def pay(self, tenant: dict) -> None:
        auth = {"Authorization": f"Bearer {tenant['token']}"}
        slip = self.admin("POST", "/_sandbox/boletos", json={"kind": "bank", "amount": 120.0})
        self.admin("POST", "/integrated-payments/v1/bankslips/validate", headers=auth,
                   json={"type": slip["type"], "bar_code": slip["bar_code"]})
        self.admin("POST", "/integrated-payments/v1/bankslips/pay",
                   headers={**auth, "x-idempotency-key": str(uuid.uuid4())},
                   json={"account_id": tenant["account_id"], "amount": 120.0,
                         "bankslip": {"type": slip["type"], "bar_code": slip["bar_code"]}})

    def freeze(self) -> None:
        self.admin("POST", "/_sandbox/clock", json={"now": MONDAY, "freeze": True})

    def advance(self, seconds: float) -> None:
        self.admin("POST", "/_sandbox/clock", json={"advance_seconds": seconds})

    def settle(self) -> None:
        self.advance(60)          # PROCESSING -> PAID
        self.advance(7 * 86400)   # PAID -> SETTLED, and the reconciliation

    def events(self, tenant_id: str | None = None) -> list[dict]:
        params = {"limit": 1000, **({"tenant_id": tenant_id} if tenant_id else {})}
        return self.admin("GET", "/_sandbox/events", params=params)["items"]

    def deliveries(self, **params) -> list[dict]:
        return self.admin("GET", "/_sandbox/deliveries", params={"limit": 1000, **params})["items"]

    def subscribe(self, url: str, fmt: str = "pismo", **extra) -> dict:
        return self.admin("POST", "/_sandbox/subscriptions", json={"url": url, "format": fmt, **extra})
