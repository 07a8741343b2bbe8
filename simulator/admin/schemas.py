"""Admin API bodies: marshmallow schemas that shape what the control plane returns."""

from __future__ import annotations

from marshmallow import Schema, fields


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


tenant_schema = TenantSchema()
account_schema = AccountSchema()
journal_schema = JournalEntrySchema()
