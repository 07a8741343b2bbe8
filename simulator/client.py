"""A typed client for a running sandbox's admin API (/_sandbox, contracts/openapi/sandbox-admin*.yaml)
and for server login, so tests, drills and scripts need no hand-written HTTP helpers.

Every state-changing call sends ``Content-Type: application/json`` (with ``{}`` when there is
nothing to say); an answer other than the documented success raises ``AdminError`` with the
sandbox's error envelope.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict
from collections.abc import Iterable

import requests

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

JSON = "application/json"
DEFAULT_TIMEOUT = 30.0


class AdminError(Exception):
    """The sandbox answered a call with an error (or not at all)."""

    def __init__(self, method: str, path: str, status: int | None, body: Any = None, reason: str = ""):
        self.method, self.path, self.status, self.body = method, path, status, body
        envelope = body if isinstance(body, dict) else {}
        self.code = envelope.get("code")
        what = (
            reason
            or " ".join(str(p) for p in (envelope.get("code"), envelope.get("message"), envelope.get("details")) if p)
            or str(body)[:300]
        )
        super().__init__(f"{method} {path} -> {status if status is not None else 'no answer'}: {what}")


# -- shapes of the answers (sandbox-admin.yaml, sandbox-admin-bankslips.yaml) -------------------


class TenantInfo(TypedDict, total=False):
    tenant_id: str
    server_key: str
    created_at: str
    accounts: int


class AccountInfo(TypedDict, total=False):
    tenant_id: str
    account_id: int
    status: str
    created_at: str
    updated_at: str


class IssuedToken(TypedDict, total=False):
    token: str
    expires_at: str
    tenant_id: str
    account_id: int


class ClockState(TypedDict):
    now: str
    frozen: bool


class Boleto(TypedDict, total=False):
    kind: str
    type: int
    bar_code: str
    digitable_line: str
    amount: float | None
    due_date: str | None
    free_field: str
    trigger: str


class ProviderSetting(TypedDict, total=False):
    tenant_id: str
    provider: str | None
    source: str | None
    returns_external_authorization: bool
    reconciles: bool
    settlement_partner: str


class FaultRule(TypedDict, total=False):
    id: str
    match: dict
    action: dict
    phase: str
    schedule: dict
    description: str
    matched: int
    fired: int


@dataclass(frozen=True)
class NewTenant:
    """A tenant as created: its server secret is known only now."""

    tenant_id: str
    server_key: str
    server_secret: str


@dataclass(frozen=True)
class AccountSession:
    """A NORMAL (or other) Pismo account ready to call Pismo's APIs with: its tenant, its id, an
    account token, and the headers carrying it."""

    tenant_id: str
    account_id: int
    token: str
    server_key: str = ""
    server_secret: str = field(default="", repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _params(**values: object) -> dict:
    return {k: v for k, v in values.items() if v is not None}


class AdminClient:
    """The admin API of the sandbox at ``base_url`` (and server login, which needs no admin)."""

    def __init__(
        self,
        base_url: str,
        admin_token: str | None = None,
        *,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.base_url = base_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout
        self.admin_token = admin_token
        self.admin_headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}

    @classmethod
    def in_process(cls, app: WSGIApplication, admin_token: str | None = None) -> "AdminClient":
        """The admin API of a WSGI app in this process (no sockets; pismo_sandbox.inprocess)."""
        from pismo_sandbox.inprocess import BASE_URL, session_for

        return cls(BASE_URL, admin_token, session=session_for(app))

    def close(self) -> None:
        self.http.close()

    # -- transport -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        expect: Iterable[int] = (200,),
        headers: dict | None = None,
    ) -> Any:
        """Call ``path`` (under the base URL); the decoded answer, None for an empty one."""
        sent = dict(self.admin_headers) if path.startswith("/_sandbox") else {}
        sent.update(headers or {})
        kwargs: dict = {"params": params, "timeout": self.timeout}
        if method.upper() != "GET":
            sent.setdefault("Content-Type", JSON)
            kwargs["data"] = _encode({} if json is None else json)
        try:
            response = self.http.request(method, self.base_url + path, headers=sent, **kwargs)
        except requests.RequestException as error:
            raise AdminError(method, path, None, reason=str(error)) from None
        body = decoded_body(response)
        if response.status_code not in tuple(expect):
            raise AdminError(method, path, response.status_code, body)
        return body

    # -- sandbox ---------------------------------------------------------------------------------
    def health(self) -> dict:
        return self.request("GET", "/_sandbox/health")

    def reset(self) -> dict:
        """Delete every tenant, account, payment, event, journal row and fault rule; wall time."""
        return self.request("POST", "/_sandbox/reset")

    # -- tenants and accounts --------------------------------------------------------------------
    def create_tenant(self, tenant_id: str | None = None) -> NewTenant:
        made = self.request("POST", "/_sandbox/tenants", json=_params(tenant_id=tenant_id), expect=(201,))
        return NewTenant(made["tenant_id"], made["server_key"], made["server_secret"])

    def tenants(self) -> list[TenantInfo]:
        return self.request("GET", "/_sandbox/tenants")["items"]

    def tenant(self, tenant_id: str) -> TenantInfo:
        return self.request("GET", f"/_sandbox/tenants/{tenant_id}")

    def create_account(self, tenant_id: str, account_id: int | None = None, status: str | None = None) -> AccountInfo:
        return self.request(
            "POST",
            f"/_sandbox/tenants/{tenant_id}/accounts",
            json=_params(account_id=account_id, status=status),
            expect=(201,),
        )

    def accounts(self, tenant_id: str) -> list[AccountInfo]:
        return self.request("GET", f"/_sandbox/tenants/{tenant_id}/accounts")["items"]

    def set_account_status(self, tenant_id: str, account_id: int, status: str) -> AccountInfo:
        return self.request("PATCH", f"/_sandbox/tenants/{tenant_id}/accounts/{account_id}", json={"status": status})

    def delete_account(self, tenant_id: str, account_id: int) -> None:
        self.request("DELETE", f"/_sandbox/tenants/{tenant_id}/accounts/{account_id}", expect=(204,))

    # -- tokens ----------------------------------------------------------------------------------
    def issue_token(self, tenant_id: str, account_id: int | None = None, ttl_seconds: int | None = None) -> IssuedToken:
        """A token without server login (an account token when ``account_id`` is given)."""
        return self.request(
            "POST",
            "/_sandbox/tokens",
            expect=(201,),
            json=_params(tenant_id=tenant_id, account_id=account_id, ttl_seconds=ttl_seconds),
        )

    def login(self, server_key: str, server_secret: str, account_id: int | None = None) -> str:
        """Server login (POST /passport/v2/s2s/access-token), as a Pismo client does it."""
        return self.request(
            "POST",
            "/passport/v2/s2s/access-token",
            json=_params(server_key=server_key, server_secret=server_secret, account_id=account_id),
        )["token"]

    def new_account(
        self, status: str = "NORMAL", tenant_id: str | None = None, account_id: int | None = None
    ) -> AccountSession:
        """A fresh tenant with one account, logged in (server login with the account id); the
        account's status is set after login, so any status can be had."""
        tenant = self.create_tenant(tenant_id)
        account = self.create_account(tenant.tenant_id, account_id)
        token = self.login(tenant.server_key, tenant.server_secret, account["account_id"])
        if status != account["status"]:
            self.set_account_status(tenant.tenant_id, account["account_id"], status)
        return AccountSession(tenant.tenant_id, account["account_id"], token, tenant.server_key, tenant.server_secret)

    # -- clock -----------------------------------------------------------------------------------
    def clock(self) -> ClockState:
        return self.request("GET", "/_sandbox/clock")

    def set_clock(
        self,
        *,
        now: str | None = None,
        freeze: bool | None = None,
        advance_seconds: float | None = None,
        reset: bool | None = None,
    ) -> ClockState:
        return self.request(
            "POST",
            "/_sandbox/clock",
            json=_params(now=now, freeze=freeze, advance_seconds=advance_seconds, reset=reset),
        )

    def advance_clock(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0) -> ClockState:
        return self.set_clock(advance_seconds=seconds + 60 * minutes + 3600 * hours + 86400 * days)

    def freeze_clock(self, now: str | None = None) -> ClockState:
        return self.set_clock(now=now, freeze=True)

    # -- records ---------------------------------------------------------------------------------
    def events(
        self,
        *,
        tenant_id: str | None = None,
        type: str | None = None,
        domain: str | None = None,
        cid: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """The event log, oldest first, in Pismo's event envelope."""
        return self.request(
            "GET",
            "/_sandbox/events",
            params=_params(tenant_id=tenant_id, type=type, domain=domain, cid=cid, after=after, limit=limit),
        )["items"]

    def journal(
        self,
        *,
        limit: int | None = None,
        tenant_id: str | None = None,
        cid: str | None = None,
        operation_id: str | None = None,
        after: int | None = None,
    ) -> list[dict]:
        """Recent requests, newest first (no bodies, no secrets)."""
        return self.request(
            "GET",
            "/_sandbox/journal",
            params=_params(limit=limit, tenant_id=tenant_id, cid=cid, operation_id=operation_id, after=after),
        )["items"]

    def credentials(self, tenant_id: str) -> list[dict]:
        """A tenant's stored provider credentials, without their keys."""
        return self.request("GET", "/_sandbox/credentials", params={"tenant_id": tenant_id})["items"]

    # -- bank slips ------------------------------------------------------------------------------
    def generate_boleto(self, kind: str = "bank", amount: float | None = None, **fields: object) -> Boleto:
        """A valid boleto from the sandbox's generator (fields as sandbox-admin-bankslips.yaml)."""
        body = {"kind": kind, **({"amount": amount} if amount is not None else {}), **fields}
        return self.request("POST", "/_sandbox/boletos", json=body, expect=(201,))

    def payments(
        self, tenant_id: str, *, account_id: int | None = None, status: str | None = None, limit: int | None = None
    ) -> list[dict]:
        """A tenant's bank-slip payments with their status history, oldest first."""
        return self.request(
            "GET",
            "/_sandbox/bankslips",
            params=_params(tenant_id=tenant_id, account_id=account_id, status=status, limit=limit),
        )["items"]

    def bankslip_provider(self, tenant_id: str) -> ProviderSetting:
        return self.request("GET", f"/_sandbox/tenants/{tenant_id}/bankslip-provider")

    def set_bankslip_provider(self, tenant_id: str, provider: str) -> ProviderSetting:
        return self.request("PUT", f"/_sandbox/tenants/{tenant_id}/bankslip-provider", json={"provider": provider})

    def clear_bankslip_provider(self, tenant_id: str) -> None:
        self.request("DELETE", f"/_sandbox/tenants/{tenant_id}/bankslip-provider", expect=(204,))

    # -- fault rules -----------------------------------------------------------------------------
    def add_fault(self, rule: dict | None = None, **fields: object) -> FaultRule:
        """Install a fault rule (the admin API's format: match, action, phase, schedule)."""
        return self.request("POST", "/_sandbox/faults", json={**(rule or {}), **fields}, expect=(201,))

    def faults(self) -> list[FaultRule]:
        return self.request("GET", "/_sandbox/faults")["items"]

    def fault(self, fault_id: str) -> FaultRule:
        return self.request("GET", f"/_sandbox/faults/{fault_id}")

    def delete_fault(self, fault_id: str) -> None:
        self.request("DELETE", f"/_sandbox/faults/{fault_id}", expect=(204,))

    def clear_faults(self) -> None:
        self.request("DELETE", "/_sandbox/faults", expect=(204,))

    # -- event delivery (docs/events.md) ---------------------------------------------------------
    def subscribe(
        self,
        url: str,
        format: str = "pismo",
        *,
        filter: dict | None = None,
        secret: str | None = None,
        retry: dict | None = None,
    ) -> dict:
        """Push events to ``url`` in a transport's framing (pismo, sns, pubsub); ``retry`` is the
        subscription's retry policy (docs/events.md)."""
        body = {"url": url, "format": format, **_params(filter=filter, secret=secret, retry=retry)}
        return self.request("POST", "/_sandbox/subscriptions", json=body, expect=(201,))

    def subscriptions(self) -> list[dict]:
        return self.request("GET", "/_sandbox/subscriptions")["items"]

    def subscription(self, subscription_id: str) -> dict:
        return self.request("GET", f"/_sandbox/subscriptions/{subscription_id}")

    def unsubscribe(self, subscription_id: str) -> None:
        self.request("DELETE", f"/_sandbox/subscriptions/{subscription_id}", expect=(204,))

    def deliveries(
        self,
        *,
        subscription_id: str | None = None,
        event_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """The delivery log: every delivery with its attempts."""
        return self.request(
            "GET",
            "/_sandbox/deliveries",
            params=_params(subscription_id=subscription_id, event_id=event_id, status=status, limit=limit),
        )["items"]

    def add_delivery_fault(self, rule: dict | None = None, **fields: object) -> dict:
        """Install a delivery fault rule (duplicate, delay, drop, reorder)."""
        return self.request("POST", "/_sandbox/delivery-faults", json={**(rule or {}), **fields}, expect=(201,))

    def delivery_faults(self) -> list[dict]:
        return self.request("GET", "/_sandbox/delivery-faults")["items"]

    def delivery_fault(self, fault_id: str) -> dict:
        """One delivery fault rule with its counters (matched, fired)."""
        return self.request("GET", f"/_sandbox/delivery-faults/{fault_id}")

    def delete_delivery_fault(self, fault_id: str) -> None:
        self.request("DELETE", f"/_sandbox/delivery-faults/{fault_id}", expect=(204,))

    def clear_delivery_faults(self) -> None:
        self.request("DELETE", "/_sandbox/delivery-faults", expect=(204,))


def _encode(value: Any) -> bytes:
    return jsonlib.dumps(value).encode()


def decoded_body(response: requests.Response) -> Any:
    """A response's body: its JSON, else its text; None when it is empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
