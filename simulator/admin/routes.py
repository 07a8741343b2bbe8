"""Handlers of the admin API (contracts/openapi/sandbox-admin.yaml). Thin: parse, call, reply."""

from __future__ import annotations

from pismo_sandbox import __version__
from pismo_sandbox.admin.schemas import account_schema, clock_body, journal_schema, tenant_schema, token_body
from pismo_sandbox.clock import isoformat, parse_instant
from pismo_sandbox.errors import NotFound
from pismo_sandbox.events import EventFilter
from pismo_sandbox.handlers import Reply, created, no_content, ok, operation
from pismo_sandbox.request_context import RequestContext


def _body(ctx: RequestContext) -> dict:
    return ctx.body or {}


@operation("sandbox-health")
def health(ctx: RequestContext) -> Reply:
    sandbox = ctx.sandbox
    return ok(
        {"status": "ok", "version": __version__, "database": sandbox.store.path, "now": isoformat(sandbox.clock.now())}
    )


@operation("sandbox-reset")
def reset(ctx: RequestContext) -> Reply:
    return ok({"reset": True, "now": isoformat(ctx.sandbox.reset())})


@operation("sandbox-create-tenant")
def create_tenant(ctx: RequestContext) -> Reply:
    tenancy = ctx.sandbox.tenancy
    tenant = tenancy.create_tenant(_body(ctx).get("tenant_id"))
    created_at = tenancy.get_tenant(tenant.tenant_id)["created_at"]
    return created(
        {
            "tenant_id": tenant.tenant_id,
            "server_key": tenant.server_key,
            "server_secret": tenant.server_secret,
            "created_at": created_at,
        }
    )


@operation("sandbox-list-tenants")
def list_tenants(ctx: RequestContext) -> Reply:
    return ok({"items": tenant_schema.dump(ctx.sandbox.tenancy.list_tenants(), many=True)})


@operation("sandbox-get-tenant")
def get_tenant(ctx: RequestContext) -> Reply:
    tenancy, tenant_id = ctx.sandbox.tenancy, ctx.path["tenant_id"]
    tenant = tenancy.get_tenant(tenant_id)
    tenant = {**tenant, "accounts": len(tenancy.list_accounts(tenant_id))}
    return ok(tenant_schema.dump(tenant))


@operation("sandbox-create-account")
def create_account(ctx: RequestContext) -> Reply:
    body = _body(ctx)
    account = ctx.sandbox.tenancy.create_account(
        ctx.path["tenant_id"], body.get("account_id"), body.get("status", "NORMAL")
    )
    return created(account_schema.dump(account))


@operation("sandbox-list-accounts")
def list_accounts(ctx: RequestContext) -> Reply:
    return ok({"items": account_schema.dump(ctx.sandbox.tenancy.list_accounts(ctx.path["tenant_id"]), many=True)})


@operation("sandbox-update-account")
def update_account(ctx: RequestContext) -> Reply:
    account = ctx.sandbox.tenancy.set_account_status(
        ctx.path["tenant_id"], ctx.path["account_id"], _body(ctx)["status"]
    )
    return ok(account_schema.dump(account))


@operation("sandbox-delete-account")
def delete_account(ctx: RequestContext) -> Reply:
    ctx.sandbox.tenancy.delete_account(ctx.path["tenant_id"], ctx.path["account_id"])
    return no_content()


@operation("sandbox-create-token")
def create_token(ctx: RequestContext) -> Reply:
    sandbox = ctx.sandbox
    body = _body(ctx)
    tenant_id, account_id = body["tenant_id"], _integer(body.get("account_id"))
    sandbox.tenancy.get_tenant(tenant_id)
    if account_id is not None:
        sandbox.tenancy.get_account(tenant_id, account_id)
    issued = sandbox.tokens.issue(tenant_id, account_id, _integer(body.get("ttl_seconds")))
    return created(token_body(issued, tenant_id, account_id))


def _integer(value: int | float | None) -> int | None:
    """JSON Schema's integer admits 5.0; a token must carry 5 (found by the contract harness: a
    token issued for account 5.0 was refused by the gateway)."""
    return int(value) if isinstance(value, float) else value


@operation("sandbox-get-clock")
def get_clock(ctx: RequestContext) -> Reply:
    return ok(clock_body(ctx.sandbox.clock))


@operation("sandbox-set-clock")
def set_clock(ctx: RequestContext) -> Reply:
    body, clock = _body(ctx), ctx.sandbox.clock
    clock.change(
        reset=bool(body.get("reset")),
        now=parse_instant(body["now"]) if "now" in body else None,
        freeze=body.get("freeze"),
        advance_seconds=body.get("advance_seconds") or 0,
    )
    return ok(clock_body(clock))


@operation("sandbox-list-events")
def list_events(ctx: RequestContext) -> Reply:
    q = ctx.query
    items = ctx.sandbox.events.list(
        EventFilter(
            org_id=q.get("tenant_id"),
            event_type=q.get("type"),
            domain=q.get("domain"),
            cid=q.get("cid"),
            after=q.get("after"),
            limit=q.get("limit", 100),
        )
    )
    return ok({"items": items})


@operation("sandbox-list-journal")
def list_journal(ctx: RequestContext) -> Reply:
    q = ctx.query
    rows = ctx.sandbox.journal.recent(
        q.get("limit", 50), q.get("tenant_id"), q.get("cid"), q.get("operation_id"), q.get("after")
    )
    return ok({"items": journal_schema.dump(rows, many=True)})


@operation("sandbox-list-credentials")
def list_credentials(ctx: RequestContext) -> Reply:
    sandbox = ctx.sandbox
    tenant_id = ctx.query["tenant_id"]
    sandbox.tenancy.get_tenant(tenant_id)
    return ok({"items": sandbox.credentials.list_public(tenant_id)})


@operation("sandbox-create-fault")
def create_fault(ctx: RequestContext) -> Reply:
    return created(ctx.sandbox.faults.add(ctx.body))


@operation("sandbox-list-faults")
def list_faults(ctx: RequestContext) -> Reply:
    return ok({"items": ctx.sandbox.faults.list()})


@operation("sandbox-clear-faults")
def clear_faults(ctx: RequestContext) -> Reply:
    ctx.sandbox.faults.clear()
    return no_content()


@operation("sandbox-get-fault")
def get_fault(ctx: RequestContext) -> Reply:
    fault_id = ctx.path["fault_id"]
    rule = ctx.sandbox.faults.get(fault_id)
    if rule is None:
        raise NotFound(details=f"fault rule {fault_id} does not exist")
    return ok(rule)


@operation("sandbox-delete-fault")
def delete_fault(ctx: RequestContext) -> Reply:
    fault_id = ctx.path["fault_id"]
    if not ctx.sandbox.faults.delete(fault_id):
        raise NotFound(details=f"fault rule {fault_id} does not exist")
    return no_content()
