"""Handler of post-passport-v2-s2s-access-token, POST /passport/v2/s2s/access-token (Server login)."""

from __future__ import annotations

from pismo_sandbox.domains.passport.schemas import ServerLoginSchema, login_body
from pismo_sandbox.handlers import Reply, ok, operation
from pismo_sandbox.request_context import RequestContext

_schema = ServerLoginSchema()


@operation("post-passport-v2-s2s-access-token")
def server_login(ctx: RequestContext) -> Reply:
    login = _schema.load(ctx.body)
    tenant, issued = ctx.sandbox.passport.server_login(login)
    return ok(login_body(login, tenant, issued))
