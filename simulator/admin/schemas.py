"""Admin API bodies: the marshmallow schemas and small functions that shape what the control plane returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from marshmallow import Schema, fields

from pismo_sandbox.clock import isoformat

if TYPE_CHECKING:
    from pismo_sandbox.clock import VirtualClock
    from pismo_sandbox.tokens import IssuedToken


class TenantSchema(Schema):
    tenant_id = fields.String()
    server_key = fields.String()
    created_at = fields.String()
    accounts = fields.Integer()


class AccountSchema(Schema):
    tenant_id = fields.String()
    account_id = fields.Integer()
    status = fields.String()
    created_at = fields.String()
    updated_at = fields.String()


class JournalEntrySchema(Schema):
    seq = fields.Integer()
    timestamp = fields.String()
    method = fields.String()
    path = fields.String()
    operation_id = fields.String(allow_none=True)
    status = fields.Integer()
    tenant_id = fields.String(allow_none=True)
    account_id = fields.Integer(allow_none=True)
    cid = fields.String(allow_none=True)
    verdict = fields.String()
    detail = fields.String(allow_none=True)
    fault_rule = fields.String(allow_none=True)
    duration_ms = fields.Float()
    idempotency_key = fields.String(allow_none=True)
    body_fingerprint = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    replayed = fields.Boolean()
    answered_at = fields.String(allow_none=True)


tenant_schema = TenantSchema()
account_schema = AccountSchema()
journal_schema = JournalEntrySchema()


def clock_body(clock: "VirtualClock") -> dict:
    """The sandbox clock as GET and POST /_sandbox/clock answer it."""
    return {"now": isoformat(clock.now()), "frozen": clock.frozen}


def token_body(issued: "IssuedToken", tenant_id: str, account_id: int | None) -> dict:
    """The 201 body of POST /_sandbox/tokens."""
    out: dict[str, object] = {"token": issued.token, "expires_at": isoformat(issued.expires_at), "tenant_id": tenant_id}
    if account_id is not None:
        out["account_id"] = account_id
    return out
