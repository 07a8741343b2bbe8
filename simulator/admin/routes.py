"""HTTP views of the admin API (contracts/openapi/sandbox-admin.yaml). Thin: parse, call, wrap."""

from __future__ import annotations

from flask import Blueprint

from pismo_sandbox import __version__
from pismo_sandbox.admin.schemas import account_schema, journal_schema, tenant_schema
from pismo_sandbox.clock import isoformat, parse_instant
from pismo_sandbox.errors import NotFound
from pismo_sandbox.events import EventFilter
from pismo_sandbox.responses import bodiless
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("admin", __name__, url_prefix="/_sandbox")


def _body() -> dict:
    return current().checked.body or {}


@blueprint.get("/health")
def health():
    sandbox = services()
    return {"status": "ok", "version": __version__, "database": sandbox.store.path,
            "now": isoformat(sandbox.clock.now())}


@blueprint.post("/reset")
def reset():
    return {"reset": True, "now": isoformat(services().reset())}


@blueprint.post("/tenants")
def create_tenant():
    sandbox = services()
    tenant = sandbox.tenancy.create_tenant(_body().get("tenant_id"))
    created = sandbox.tenancy.get_tenant(tenant.tenant_id)["created_at"]
    return {"tenant_id": tenant.tenant_id, "server_key": tenant.server_key,
            "server_secret": tenant.server_secret, "created_at": created}, 201


@blueprint.get("/tenants")
def list_tenants():
    return {"items": tenant_schema.dump(services().tenancy.list_tenants(), many=True)}


@blueprint.get("/tenants/<tenant_id>")
def get_tenant(tenant_id: str):
    sandbox = services()
    tenant = sandbox.tenancy.get_tenant(tenant_id)
    tenant = {**tenant, "accounts": len(sandbox.tenancy.list_accounts(tenant_id))}
    return tenant_schema.dump(tenant)


@blueprint.post("/tenants/<tenant_id>/accounts")
def create_account(tenant_id: str):
    body = _body()
    account = services().tenancy.create_account(tenant_id, body.get("account_id"),
                                                 body.get("status", "NORMAL"))
    return account_schema.dump(account), 201


@blueprint.get("/tenants/<tenant_id>/accounts")
def list_accounts(tenant_id: str):
    return {"items": account_schema.dump(services().tenancy.list_accounts(tenant_id), many=True)}


@blueprint.patch("/tenants/<tenant_id>/accounts/<account_id>")
def update_account(tenant_id: str, account_id: str):
    account = services().tenancy.set_account_status(
        tenant_id, current().checked.path["account_id"], _body()["status"])
    return account_schema.dump(account)


@blueprint.delete("/tenants/<tenant_id>/accounts/<account_id>")
def delete_account(tenant_id: str, account_id: str):
    services().tenancy.delete_account(tenant_id, current().checked.path["account_id"])
    return bodiless(204)


@blueprint.post("/tokens")
def create_token():
    sandbox = services()
    body = _body()
    tenant_id, account_id = body["tenant_id"], _integer(body.get("account_id"))
    sandbox.tenancy.get_tenant(tenant_id)
    if account_id is not None:
        sandbox.tenancy.get_account(tenant_id, account_id)
    issued = sandbox.tokens.issue(tenant_id, account_id, _integer(body.get("ttl_seconds")))
    out = {"token": issued.token, "expires_at": isoformat(issued.expires_at), "tenant_id": tenant_id}
    if account_id is not None:
        out["account_id"] = account_id
    return out, 201


def _integer(value):
    """JSON Schema's integer admits 5.0; a token must carry 5 (found by the contract harness: a
    token issued for account 5.0 was refused by the gateway)."""
    return int(value) if isinstance(value, float) else value


def _clock_body():
    clock = services().clock
    return {"now": isoformat(clock.now()), "frozen": clock.frozen}


@blueprint.get("/clock")
def get_clock():
    return _clock_body()


@blueprint.post("/clock")
def set_clock():
    body = _body()
    services().clock.change(reset=bool(body.get("reset")),
                            now=parse_instant(body["now"]) if "now" in body else None,
                            freeze=body.get("freeze"), advance_seconds=body.get("advance_seconds") or 0)
    return _clock_body()


@blueprint.get("/events")
def list_events():
    q = current().checked.query
    items = services().events.list(EventFilter(
        org_id=q.get("tenant_id"), event_type=q.get("type"), domain=q.get("domain"),
        cid=q.get("cid"), after=q.get("after"), limit=q.get("limit", 100)))
    return {"items": items}


@blueprint.get("/journal")
def list_journal():
    q = current().checked.query
    rows = services().journal.recent(q.get("limit", 50), q.get("tenant_id"), q.get("cid"),
                                     q.get("operation_id"), q.get("after"))
    return {"items": journal_schema.dump(rows, many=True)}


@blueprint.get("/credentials")
def list_credentials():
    sandbox = services()
    tenant_id = current().checked.query["tenant_id"]
    sandbox.tenancy.get_tenant(tenant_id)
    return {"items": sandbox.credentials.list_public(tenant_id)}


@blueprint.post("/faults")
def create_fault():
    return services().faults.add(current().checked.body), 201


@blueprint.get("/faults")
def list_faults():
    return {"items": services().faults.list()}


@blueprint.delete("/faults")
def clear_faults():
    services().faults.clear()
    return bodiless(204)


@blueprint.get("/faults/<fault_id>")
def get_fault(fault_id: str):
    rule = services().faults.get(fault_id)
    if rule is None:
        raise NotFound(details=f"fault rule {fault_id} does not exist")
    return rule


@blueprint.delete("/faults/<fault_id>")
def delete_fault(fault_id: str):
    if not services().faults.delete(fault_id):
        raise NotFound(details=f"fault rule {fault_id} does not exist")
    return bodiless(204)
