"""Handlers of the bank-slip control plane (contracts/openapi/sandbox-admin-bankslips.yaml):
the boleto generator, the tenant's bank-slip provider, and payments with their history."""

from __future__ import annotations

from pismo_sandbox.domains.bankslips.schemas import GenerateBoletoSchema
from pismo_sandbox.handlers import Reply, created, no_content, ok, operation
from pismo_sandbox.request_context import RequestContext

_generate_schema = GenerateBoletoSchema()


@operation("sandbox-generate-boleto")
def generate_boleto(ctx: RequestContext) -> Reply:
    return created(ctx.sandbox.bankslips.generate_boleto(_generate_schema.load(ctx.body)))


@operation("sandbox-list-bankslips")
def list_bankslips(ctx: RequestContext) -> Reply:
    q = ctx.query
    items = ctx.sandbox.bankslips.list_payments(
        q["tenant_id"], q.get("account_id"), q.get("status"), q.get("limit", 100)
    )
    return ok({"items": items})


@operation("sandbox-get-bankslip-provider")
def get_bankslip_provider(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.bankslips.provider_setting(ctx.path["tenant_id"]))


@operation("sandbox-set-bankslip-provider")
def put_bankslip_provider(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.bankslips.set_provider(ctx.path["tenant_id"], ctx.body["provider"]))


@operation("sandbox-clear-bankslip-provider")
def delete_bankslip_provider(ctx: RequestContext) -> Reply:
    ctx.sandbox.bankslips.clear_provider(ctx.path["tenant_id"])
    return no_content()
