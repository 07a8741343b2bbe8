"""The dashboard's read side: what each page shows, gathered through the sandbox (no SQL here,
no Flask). Every function takes the service container and plain filter values."""

from __future__ import annotations

from dataclasses import dataclass

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.bank_accounts.errors import BankAccountNotFound
from pismo_sandbox.domains.bank_accounts.service import BRAZIL
from pismo_sandbox.domains.bankslips.lifecycle import STATUSES
from pismo_sandbox.errors import NotFound
from pismo_sandbox.events import EventFilter
from pismo_sandbox.gateway.journal import answer_order
from pismo_sandbox.core import SandboxCore
from pismo_sandbox.tokens import Principal

PAYMENT_STATUSES = STATUSES
ROWS = 200  # rows a table shows (newest first)
EVENTS_SCANNED = 10_000  # the event log lists oldest first: read this many, show the newest ROWS
DELIVERIES_SCANNED = 2_000  # the newest deliveries looked at for the events a page shows
# What a credential row shows: never the key, nor anything derived from it.
CREDENTIAL_FIELDS = ("provider", "type", "client_id", "version", "token_expires_at", "created_at", "updated_at")


@dataclass(frozen=True)
class JournalQuery:
    tenant_id: str | None = None
    cid: str | None = None
    operation_id: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class PaymentQuery:
    tenant_id: str | None = None
    account_id: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class EventQuery:
    tenant_id: str | None = None
    cid: str | None = None
    event_type: str | None = None
    domain: str | None = None


def clock(sandbox: SandboxCore) -> dict:
    return {"now": isoformat(sandbox.clock.now()), "frozen": sandbox.clock.frozen}


def tenant_ids(sandbox: SandboxCore) -> list[str]:
    return [tenant["tenant_id"] for tenant in sandbox.tenancy.list_tenants()]


def tenants(sandbox: SandboxCore) -> list[dict]:
    """Every tenant with its accounts (each with its Brazilian bank account, if registered), its
    credentials (public fields only) and its bank-slip provider setting."""
    out = []
    for tenant in sandbox.tenancy.list_tenants():
        tenant_id = tenant["tenant_id"]
        accounts = [
            {**account, "bank_account": _bank_account(sandbox, tenant_id, account["account_id"])}
            for account in sandbox.tenancy.list_accounts(tenant_id)
        ]
        credentials = [
            {name: row.get(name) for name in CREDENTIAL_FIELDS} for row in sandbox.credentials.list_public(tenant_id)
        ]
        out.append(
            {
                "tenant_id": tenant_id,
                "server_key": tenant["server_key"],
                "created_at": tenant["created_at"],
                "accounts": accounts,
                "credentials": credentials,
                "provider": sandbox.bankslips.provider_setting(tenant_id),
            }
        )
    return out


def _bank_account(sandbox: SandboxCore, tenant_id: str, account_id: int) -> dict | None:
    """The account's active Brazilian bank account, read as the account itself would read it."""
    reader = Principal(tenant_id=tenant_id, account_id=account_id, subject="dashboard")
    try:
        return sandbox.bank_accounts.get(reader, str(account_id), BRAZIL)
    except BankAccountNotFound:
        return None


def payments(sandbox: SandboxCore, query: PaymentQuery) -> list[dict]:
    """Bank-slip payments with their status history, newest first."""
    tenants_ = [query.tenant_id] if query.tenant_id else tenant_ids(sandbox)
    found = []
    for tenant_id in tenants_:
        try:
            found += sandbox.bankslips.list_payments(tenant_id, query.account_id, query.status, limit=100_000)
        except NotFound:  # a tenant filter naming no tenant shows nothing
            continue
    found.sort(key=lambda payment: payment["authorization_id"], reverse=True)
    return found[:ROWS]


def payment(sandbox: SandboxCore, tenant_id: str, authorization_id: int) -> dict:
    """One payment, the journal rows that made it (its cid, and every request under its
    idempotency key: retries and replays) and the events it emitted (its cid)."""
    match = [
        p
        for p in sandbox.bankslips.list_payments(tenant_id, limit=100_000)
        if p["authorization_id"] == authorization_id
    ]
    if not match:
        raise NotFound(details=f"payment {authorization_id} does not exist in tenant {tenant_id}")
    found = match[0]
    rows: dict[int, dict] = {}
    if found["cid"]:
        rows.update((row["seq"], row) for row in sandbox.journal.recent(ROWS, tenant_id, found["cid"]))
    if found["idempotency_key"]:
        rows.update(
            (row["seq"], row)
            for row in sandbox.journal.recent(ROWS, tenant_id, idempotency_key=found["idempotency_key"])
            if row["account_id"] == found["account_id"]
        )  # a key belongs to (tenant, account, key)
    linked_events = events(sandbox, EventQuery(tenant_id=tenant_id, cid=found["cid"])) if found["cid"] else []
    return {"payment": found, "journal": sorted(rows.values(), key=answer_order, reverse=True), "events": linked_events}


def journal(sandbox: SandboxCore, query: JournalQuery) -> list[dict]:
    """Recent journal rows, newest first."""
    return sandbox.journal.recent(
        ROWS, query.tenant_id, query.cid, query.operation_id, idempotency_key=query.idempotency_key
    )


def events(sandbox: SandboxCore, query: EventQuery) -> list[dict]:
    """Recent events, newest first."""
    listed = sandbox.events.list(
        EventFilter(
            org_id=query.tenant_id,
            cid=query.cid,
            event_type=query.event_type,
            domain=query.domain,
            limit=EVENTS_SCANNED,
        )
    )
    return list(reversed(listed[-ROWS:]))


def deliveries(sandbox: SandboxCore, query: EventQuery) -> dict:
    """Every subscription, and the deliveries (each with every attempt) of the events the events
    table shows: newest event first, an event's deliveries in the order they were made."""
    shown = events(sandbox, query)
    position = {event["event_id"]: i for i, event in enumerate(shown)}
    recent = sandbox.deliveries.deliveries(limit=DELIVERIES_SCANNED, newest=True)
    rows = [
        {**delivery, "event": shown[position[delivery["event_id"]]]}
        for delivery in reversed(recent)
        if delivery["event_id"] in position
    ]
    rows.sort(key=lambda delivery: position[delivery["event_id"]])
    return {"subscriptions": sandbox.deliveries.list(), "deliveries": rows[:ROWS]}


def delivery_faults(sandbox: SandboxCore) -> list[dict]:
    """Delivery fault rules in matching order, with their counters."""
    return sandbox.deliveries.rules()


def faults(sandbox: SandboxCore) -> list[dict]:
    """Fault rules in matching order, with their counters."""
    return sandbox.faults.list()


def operation_ids(sandbox: SandboxCore) -> list[str]:
    """Every operation a fault rule can name."""
    return sorted(sandbox.contract.by_id)
