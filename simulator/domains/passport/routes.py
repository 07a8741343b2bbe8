"""HTTP view of POST /passport/v2/s2s/access-token (Server login)."""

from __future__ import annotations

from flask import Blueprint

from pismo_sandbox.domains.passport.schemas import ServerLoginSchema
from pismo_sandbox.domains.passport.service import ROLES
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("passport", __name__, url_prefix="/passport")
_schema = ServerLoginSchema()


@blueprint.post("/v2/s2s/access-token")
def server_login():
    login = _schema.load(current().checked.body)
    tenant, issued = services().passport.server_login(login)
    body = {"server_key": tenant["server_key"], "tenant": tenant["tenant_id"], "program_ids": [],
            "roles": ROLES, "token": issued.token, "expires_in": issued.ttl_seconds}
    if login.account_id is not None:
        body["account_id"] = login.account_id
    return body, 200
