"""Shapes of the bank-account operations: validated request body -> RegisterBrazilAccount
command; stored bank account -> the response body seed 002 documents."""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import EXCLUDE, Schema, fields, post_load


@dataclass(frozen=True)
class RegisterBrazilAccount:
    """What a client asked to register, as sent (the service checks and normalises it)."""

    bank: str
    branch: str
    account_number: str
    account_type: str
    metadata: dict = field(default_factory=dict)


class _SupplementaryDataSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    account_type = fields.String(required=True)


class _BrazilSchemeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    bank = fields.String(required=True)
    branch = fields.String(required=True)
    account_number = fields.String(required=True)
    supplementary_data = fields.Nested(_SupplementaryDataSchema, required=True)


class RegisterBrazilAccountSchema(Schema):
    """The contract layer already checked seed 002's types and lengths; this builds the command."""

    class Meta:
        unknown = EXCLUDE

    scheme = fields.Nested(_BrazilSchemeSchema, required=True)
    metadata = fields.Dict(load_default=dict)

    @post_load
    def make(self, data: dict, **_: object) -> RegisterBrazilAccount:
        scheme = data["scheme"]
        return RegisterBrazilAccount(
            bank=scheme["bank"], branch=scheme["branch"], account_number=scheme["account_number"],
            account_type=scheme["supplementary_data"]["account_type"],
            metadata=data.get("metadata") or {})


class BankAccountSchema(Schema):
    """A stored bank account (repository row) as the 201 of Register answers it."""

    account_id = fields.Integer()
    creation_datetime = fields.String(attribute="created_at")
    scheme = fields.Dict()
    metadata = fields.Dict()


class BankAccountWithStatusSchema(BankAccountSchema):
    """...and as Get bank account answers it (the sandbox-authored spec adds the status)."""

    status = fields.String()
