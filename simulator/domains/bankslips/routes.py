"""Handlers of the bank-slip operations under /integrated-payments: Validate bank slip and
List bank slip receipts (sandbox-authored specs) and Pay bank slip (seed 003). Thin: parse, call,
reply."""

from __future__ import annotations

from pismo_sandbox.domains.bankslips.schemas import ReceiptsQuerySchema, pay_command, validate_command
from pismo_sandbox.handlers import Reply, ok, operation
from pismo_sandbox.idempotency import MAX_KEY_LENGTH, REPLAY_HEADER
from pismo_sandbox.request_context import RequestContext

_receipts_schema = ReceiptsQuerySchema()

IDEMPOTENCY_HEADER = "x-idempotency-key"
SKIP_RECONCILIATION_HEADER = "x-skip-reconciliation"


@operation("post-integrated-payments-api-v1-bankslips-validate")
def validate_bankslip(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.bankslips.validate(ctx.caller, validate_command(ctx.body)))


@operation("post-integrated-payments-api-v1-bankslips-pay")
def pay_bankslip(ctx: RequestContext) -> Reply:
    op = ctx.operation
    assert op is not None  # the handler of a documented operation
    key = (ctx.headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key:  # present but blank: as good as missing
        op.errors.header(IDEMPOTENCY_HEADER).raise_(details=f"{IDEMPOTENCY_HEADER} is empty")
    if len(key) > MAX_KEY_LENGTH:
        op.errors.get("invalid_parameter").raise_(
            details=f"{IDEMPOTENCY_HEADER}: must have at most {MAX_KEY_LENGTH} characters"
        )
    result = ctx.sandbox.bankslips.pay(
        ctx.caller,
        pay_command(ctx.body),
        key=key,
        operation_id=op.operation_id,
        body=ctx.body,
        skip_reconciliation=ctx.headers.get(SKIP_RECONCILIATION_HEADER) == "true",
        cid=ctx.cid,
    )
    # The answer is stored encoded (a replay sends the same bytes), so it goes out as it is.
    return Reply(raw=result.body, status=result.status, headers={REPLAY_HEADER: "true"} if result.replayed else {})


@operation("get-integrated-payments-api-v1-bankslips-receipts")
def list_bankslip_receipts(ctx: RequestContext) -> Reply:
    return ok(ctx.sandbox.bankslips.receipts(ctx.caller, _receipts_schema.load(ctx.query)))
