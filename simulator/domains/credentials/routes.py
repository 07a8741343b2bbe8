"""Handler of post-credentials, POST /banking-auth/v1/credentials (seed 000)."""

from __future__ import annotations

from pismo_sandbox.domains.credentials.schemas import upsert_command
from pismo_sandbox.handlers import Reply, no_content, operation
from pismo_sandbox.request_context import RequestContext


@operation("post-credentials")
def post_credentials(ctx: RequestContext) -> Reply:
    ctx.sandbox.credentials.upsert(ctx.caller.tenant_id, upsert_command(ctx.body))
    return no_content(201)  # the spec documents no body
