"""HTTP views of the bank-slip control plane (contracts/openapi/sandbox-admin-bankslips.yaml):
the boleto generator, the tenant's bank-slip provider, and payments with their history."""

from __future__ import annotations

from flask import Blueprint

from pismo_sandbox.domains.bankslips.schemas import GenerateBoletoSchema
from pismo_sandbox.responses import bodiless
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("sandbox_bankslips", __name__, url_prefix="/_sandbox")
_generate_schema = GenerateBoletoSchema()


@blueprint.post("/boletos")
def generate_boleto():
    return services().bankslips.generate_boleto(_generate_schema.load(current().checked.body)), 201


@blueprint.get("/bankslips")
def list_bankslips():
    q = current().checked.query
    items = services().bankslips.list_payments(q["tenant_id"], q.get("account_id"), q.get("status"),
                                               q.get("limit", 100))
    return {"items": items}


@blueprint.get("/tenants/<tenant_id>/bankslip-provider")
def get_bankslip_provider(tenant_id: str):
    return services().bankslips.provider_setting(tenant_id)


@blueprint.put("/tenants/<tenant_id>/bankslip-provider")
def put_bankslip_provider(tenant_id: str):
    return services().bankslips.set_provider(tenant_id, current().checked.body["provider"])


@blueprint.delete("/tenants/<tenant_id>/bankslip-provider")
def delete_bankslip_provider(tenant_id: str):
    services().bankslips.clear_provider(tenant_id)
    return bodiless(204)
