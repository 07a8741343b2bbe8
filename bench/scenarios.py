"""The bench's scenarios: the tenant, account and token prepared before measuring, and for each
measured operation the pool of requests wrk replays."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.wrk import line
from pismo_sandbox.client import AdminClient


# -- scenarios ---------------------------------------------------------------------------------


class Fixture:
    """Tenants, accounts and tokens prepared through the admin API before measuring."""

    def __init__(self, base: str, db_path: str):
        self.base = base
        self.db_path = db_path
        self.admin = AdminClient(base, timeout=10)
        self.tenant = self.admin.create_tenant()
        self.tenant_id = self.tenant.tenant_id
        self.account_id = self.account()
        self.token = self.token_for(self.account_id)
        # Bank slips need the tenant's provider: register a Celcoin BaaS credential, as a user would.
        requests.post(
            f"{base}/banking-auth/v1/credentials",
            headers=self.headers(),
            timeout=10,
            json={"key": "bench-celcoin-key", "provider": "CELCOIN", "type": "BAAS"},
        ).raise_for_status()

    def account(self) -> int:
        return self.admin.create_account(self.tenant_id)["account_id"]

    def token_for(self, account_id: int) -> str:
        return self.admin.issue_token(self.tenant_id, account_id, ttl_seconds=86400)["token"]

    def headers(self, token: str | None = None, **extra: str) -> dict:
        return {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json", **extra}


CREDENTIAL_BODY = {"key": "bench-provider-key", "provider": "CELCOIN", "type": "BAAS"}


def credentials_line(headers: dict) -> str:
    return line("POST", "/banking-auth/v1/credentials", headers, CREDENTIAL_BODY)


def scenario_credentials(fx: Fixture, size: int) -> list[str]:
    return [credentials_line(fx.headers())]


def scenario_register(fx: Fixture, size: int) -> list[str]:
    """One registration per Pismo account (a second one is a 409), so a pool of accounts and
    their tokens, made directly with the simulator's services (same database and key file)."""
    from pismo_sandbox.app import build_sandbox
    from pismo_sandbox.config import Config

    sandbox = build_sandbox(Config(db_path=fx.db_path))
    scheme = {
        "bank": "00000000",
        "branch": "186",
        "account_number": "1773065291",
        "supplementary_data": {"account_type": "CACC"},
    }
    out = []
    for _ in range(size):
        account = sandbox.tenancy.create_account(fx.tenant_id)["account_id"]
        token = sandbox.tokens.issue(fx.tenant_id, account, 86400).token
        out.append(
            line(
                "POST",
                f"/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil",
                fx.headers(token),
                {"scheme": scheme, "metadata": {"bench": True}},
            )
        )
    sandbox.close()
    return out


# Preparing pay's pool is three requests a line (two slips generated, one validated): sent from
# this many threads, each with its own kept-alive connections (a 14,400-line pool took 171 s from
# one thread, a new connection for every validate, on a slow spell).
PREP_THREADS = 4
_connections = threading.local()


def _clients(fx: Fixture) -> tuple[AdminClient, requests.Session]:
    """This thread's admin client and session for the fixture's sandbox."""
    if getattr(_connections, "base", None) != fx.base:
        _connections.base = fx.base
        _connections.admin = AdminClient(fx.base, timeout=10)
        _connections.http = requests.Session()
    return _connections.admin, _connections.http


def _slip(fx: Fixture, i: int) -> dict:
    amount = round(100 + (i % 9000) + ((i * 7) % 90 + 10) / 100, 2)
    return dict(_clients(fx)[0].generate_boleto("bank", amount))


def _slips(fx: Fixture, count: int) -> list[dict]:
    return [_slip(fx, i) for i in range(count)]


def _validate(fx: Fixture, slip: dict) -> dict:
    response = _clients(fx)[1].post(
        f"{fx.base}/integrated-payments/v1/bankslips/validate",
        headers=fx.headers(),
        json={"type": 1, "digitable_line": slip["digitable_line"]},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def _pay_body(fx: Fixture, slip: dict, validated: dict) -> dict:
    body = {
        "account_id": fx.account_id,
        "amount": validated["amount"],
        "bankslip": {"type": 1, "digitable_line": slip["digitable_line"]},
    }
    if validated.get("external_authorization"):
        body["external_authorization"] = validated["external_authorization"]
    return body


def scenario_pay(fx: Fixture, size: int) -> list[str]:
    """Validate one slip, pay another, each pay under a fresh key. The paid slips were validated
    while preparing (validating one again would replace its external_authorization)."""
    half = max(size // 2, 1)

    def prepare(i: int) -> tuple[dict, dict, dict]:
        paid, checked = _slip(fx, i), _slip(fx, half + i)
        return paid, checked, _validate(fx, paid)

    with ThreadPoolExecutor(PREP_THREADS) as pool:
        prepared = list(pool.map(prepare, range(half)))
    out = []
    for paid, checked, validated in prepared:
        out.append(
            line(
                "POST",
                "/integrated-payments/v1/bankslips/validate",
                fx.headers(),
                {"type": 1, "digitable_line": checked["digitable_line"]},
            )
        )
        out.append(
            line(
                "POST",
                "/integrated-payments/v1/bankslips/pay",
                fx.headers(**{"x-idempotency-key": "bench-{{n}}"}),
                _pay_body(fx, paid, validated),
            )
        )
    return out


def scenario_receipts(fx: Fixture, size: int) -> list[str]:
    for slip in _slips(fx, 40):
        validated = _validate(fx, slip)
        requests.post(
            f"{fx.base}/integrated-payments/v1/bankslips/pay",
            json=_pay_body(fx, slip, validated),
            headers=fx.headers(**{"x-idempotency-key": f"seed-{slip['digitable_line']}"}),
            timeout=10,
        )
    return [line("GET", "/integrated-payments/v1/bankslips/receipts?perPage=20", fx.headers())]


SCENARIOS = {
    "pay": scenario_pay,
    "register": scenario_register,
    "credentials": scenario_credentials,
    "receipts": scenario_receipts,
}
