"""Shapes of the bank-account operations: validated request body -> RegisterBrazilAccount
command; stored bank account -> the response body seed 002 documents. The command of a body of
the plain shape is built directly (``register_command``), the marshmallow schema decides the
rest; the 201's body is the schema's dump, written out (``created_body``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
            bank=scheme["bank"],
            branch=scheme["branch"],
            account_number=scheme["account_number"],
            account_type=scheme["supplementary_data"]["account_type"],
            metadata=data.get("metadata") or {},
        )


class BankAccountSchema(Schema):
    """A stored bank account (repository row) as the 201 of Register answers it."""

    account_id = fields.Integer()
    creation_datetime = fields.String(attribute="created_at")
    scheme = fields.Dict()
    metadata = fields.Dict()


class BankAccountWithStatusSchema(BankAccountSchema):
    """...and as Get bank account answers it (the sandbox-authored spec adds the status)."""

    status = fields.String()


_REGISTER = RegisterBrazilAccountSchema()


def register_command(body: Any) -> RegisterBrazilAccount:
    """The command of a body the contract layer accepted: read directly when every field the
    schema reads is of the plain type (strings, objects; ``metadata`` absent or an object),
    otherwise by the schema, which refuses as before. A property test holds the two to the
    same command or refusal."""
    if type(body) is dict:
        scheme = body.get("scheme")
        metadata: Any = body.get("metadata", _ABSENT)
        if type(scheme) is dict and (metadata is _ABSENT or type(metadata) is dict):
            bank, branch, number = scheme.get("bank"), scheme.get("branch"), scheme.get("account_number")
            extra = scheme.get("supplementary_data")
            kind = extra.get("account_type") if type(extra) is dict else None
            if type(bank) is str and type(branch) is str and type(number) is str and type(kind) is str:
                return RegisterBrazilAccount(
                    bank=bank,
                    branch=branch,
                    account_number=number,
                    account_type=kind,
                    metadata=dict(metadata) if metadata is not _ABSENT else {},
                )
    return _REGISTER.load(body)


_ABSENT: Any = object()
# (response field, row key, conversion) as BankAccountSchema dumps them
_CREATED_FIELDS = (
    ("account_id", "account_id", int),
    ("creation_datetime", "created_at", str),
    ("scheme", "scheme", dict),
    ("metadata", "metadata", dict),
)


def created_body(row: dict) -> dict:
    """``BankAccountSchema().dump(row)`` written out: a field the row lacks is left out, a null
    stays null. A property test holds the two to the same body."""
    out = {}
    for name, key, convert in _CREATED_FIELDS:
        if key in row:
            value = row[key]
            out[name] = None if value is None else convert(value)
    return out
