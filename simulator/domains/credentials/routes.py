"""HTTP view of POST /banking-auth/v1/credentials (seed 000)."""

from __future__ import annotations

from flask import Blueprint

from pismo_sandbox.domains.credentials.schemas import UpsertCredentialSchema
from pismo_sandbox.responses import bodiless
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("credentials", __name__, url_prefix="/banking-auth")
_schema = UpsertCredentialSchema()


@blueprint.post("/v1/credentials")
def post_credentials():
    command = _schema.load(current().checked.body)
    services().credentials.upsert(current().principal.tenant_id, command)
    return bodiless(201)  # the spec documents no body
