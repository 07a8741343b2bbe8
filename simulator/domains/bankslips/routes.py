"""HTTP views of the bank-slip operations under /integrated-payments: Validate bank slip and
List bank slip receipts (sandbox-authored specs) and Pay bank slip (seed 003). Thin: parse, call,
wrap."""

from __future__ import annotations

from flask import Blueprint, Response

from pismo_sandbox.domains.bankslips.schemas import PaySchema, ReceiptsQuerySchema, ValidateSchema
from pismo_sandbox.idempotency import MAX_KEY_LENGTH, REPLAY_HEADER
from pismo_sandbox.request_context import current
from pismo_sandbox.services import services

blueprint = Blueprint("bankslips", __name__, url_prefix="/integrated-payments")
_validate_schema = ValidateSchema()
_pay_schema = PaySchema()
_receipts_schema = ReceiptsQuerySchema()

IDEMPOTENCY_HEADER = "x-idempotency-key"
SKIP_RECONCILIATION_HEADER = "x-skip-reconciliation"


@blueprint.post("/v1/bankslips/validate")
def validate_bankslip():
    return services().bankslips.validate(current().principal, _validate_schema.load(current().checked.body))


@blueprint.post("/v1/bankslips/pay")
def pay_bankslip():
    key = (current().checked.header.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key:  # present but blank: as good as missing
        current().operation.errors.header(IDEMPOTENCY_HEADER).raise_(details=f"{IDEMPOTENCY_HEADER} is empty")
    if len(key) > MAX_KEY_LENGTH:
        current().operation.errors.get("invalid_parameter").raise_(
            details=f"{IDEMPOTENCY_HEADER}: must have at most {MAX_KEY_LENGTH} characters")
    result = services().bankslips.pay(
        current().principal, _pay_schema.load(current().checked.body), key=key, operation_id=current().operation.operation_id,
        body=current().checked.body, skip_reconciliation=current().checked.header.get(SKIP_RECONCILIATION_HEADER) == "true",
        cid=current().cid)
    response = Response(result.body, status=result.status, mimetype="application/json")
    if result.replayed:
        response.headers[REPLAY_HEADER] = "true"
    return response


@blueprint.get("/v1/bankslips/receipts")
def list_bankslip_receipts():
    return services().bankslips.receipts(current().principal, _receipts_schema.load(current().checked.query))
