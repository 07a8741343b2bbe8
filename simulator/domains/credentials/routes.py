"""Handler of post-credentials, POST /banking-auth/v1/credentials (seed 000)."""

from __future__ import annotations

from pismo_sandbox.domains.credentials.schemas import UpsertCredentialSchema
from pismo_sandbox.handlers import Reply, no_content, operation
from pismo_sandbox.request_context import RequestContext

_schema = UpsertCredentialSchema()


@operation("post-credentials")
def post_credentials(ctx: RequestContext) -> Reply:
    ctx.sandbox.credentials.upsert(ctx.caller.tenant_id, _schema.load(ctx.body))
    return no_content(201)  # the spec documents no body
