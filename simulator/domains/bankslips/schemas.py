"""Marshmallow schemas: validated request parts -> typed commands for the service.

Shapes were already checked against the contract; these build typed commands (Decimal money)
for the service. The service applies the rules the contract cannot express. The commands of
Validate and Pay are built directly from a body of the plain shape (``validate_command``,
``pay_command``); the schemas decide anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load


@dataclass(frozen=True)
class ValidateCommand:
    type: int
    bar_code: str | None
    digitable_line: str | None


@dataclass(frozen=True)
class SlipReference:
    type: int
    bar_code: str | None
    digitable_line: str | None
    original_amount: Decimal | None


@dataclass(frozen=True)
class PayCommand:
    account_id: int
    amount: Decimal
    bankslip: SlipReference | None
    currency_code: str | None
    external_authorization: str | None


@dataclass(frozen=True)
class ReceiptsQuery:
    per_page: int
    order: str
    begin: object | None
    end: object | None
    authorization_id: int | None
    cursor: str | None


@dataclass(frozen=True)
class GenerateBoleto:
    kind: str
    amount: Decimal | None
    due_date: date | None
    due_date_given: bool
    bank: str | None
    segment: str | None
    trigger: str | None
    free_field: str | None
    fine: Decimal | None
    interest: Decimal | None
    discount: Decimal | None


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class ValidateSchema(_Loose):
    type = fields.Integer(required=True)
    bar_code = fields.String(load_default=None)
    digitable_line = fields.String(load_default=None)

    @post_load
    def make(self, data: dict, **_: object) -> ValidateCommand:
        return ValidateCommand(data["type"], data["bar_code"], data["digitable_line"])


class SlipReferenceSchema(_Loose):
    type = fields.Integer(required=True)
    bar_code = fields.String(load_default=None)
    digitable_line = fields.String(load_default=None)
    original_amount = fields.Decimal(load_default=None)

    @post_load
    def make(self, data: dict, **_: object) -> SlipReference:
        return SlipReference(data["type"], data["bar_code"], data["digitable_line"], data["original_amount"])


class PaySchema(_Loose):
    account_id = fields.Integer(required=True)
    amount = fields.Decimal(required=True)
    bankslip = fields.Nested(SlipReferenceSchema, load_default=None)
    currency_code = fields.String(load_default=None)
    external_authorization = fields.String(load_default=None)

    @post_load
    def make(self, data: dict, **_: object) -> PayCommand:
        return PayCommand(
            data["account_id"], data["amount"], data["bankslip"], data["currency_code"], data["external_authorization"]
        )


class ReceiptsQuerySchema(_Loose):
    perPage = fields.Integer(load_default=20)
    order = fields.String(load_default="desc")
    beginDatetime = fields.Raw(load_default=None)
    endDatetime = fields.Raw(load_default=None)
    authorizationId = fields.Integer(load_default=None)
    lastEvaluatedPaymentDatetimeQuery = fields.String(load_default=None)

    @post_load
    def make(self, data: dict, **_: object) -> ReceiptsQuery:
        return ReceiptsQuery(
            data["perPage"],
            data["order"],
            data["beginDatetime"],
            data["endDatetime"],
            data["authorizationId"],
            data["lastEvaluatedPaymentDatetimeQuery"],
        )


class GenerateBoletoSchema(_Loose):
    kind = fields.String(required=True)
    amount = fields.Decimal(load_default=None, allow_none=True)
    due_date = fields.Raw(load_default=None, allow_none=True)
    bank = fields.String(load_default=None)
    segment = fields.String(load_default=None)
    trigger = fields.String(load_default=None)
    free_field = fields.String(load_default=None)
    fine = fields.Decimal(load_default=None)
    interest = fields.Decimal(load_default=None)
    discount = fields.Decimal(load_default=None)

    # JSON null ("no due date") and an absent due_date (the default) mean different things.
    due_date_given = fields.Boolean(data_key="_due_date_given", load_default=False)

    @pre_load
    def _mark_due_date(self, data: dict, **_: object) -> dict:
        return {**data, "_due_date_given": "due_date" in data}

    @post_load
    def make(self, data: dict, **_: object) -> GenerateBoleto:
        return GenerateBoleto(
            kind=data["kind"],
            amount=data["amount"],
            due_date=_as_date(data["due_date"]),
            due_date_given=data["due_date_given"],
            bank=data["bank"],
            segment=data["segment"],
            trigger=data["trigger"],
            free_field=data["free_field"],
            fine=data["fine"],
            interest=data["interest"],
            discount=data["discount"],
        )


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


_VALIDATE, _PAY = ValidateSchema(), PaySchema()
_ABSENT: Any = object()


def _text(value: Any) -> bool:
    """An optional string field the schemas load as it is: absent (None) or a string."""
    return value is None or type(value) is str


def _money(value: Any) -> Decimal | None:
    """A JSON number as fields.Decimal loads it (Decimal of its text), None when not plain."""
    if type(value) is int or type(value) is float:
        number = Decimal(str(value))
        if number.is_finite():
            return number
    return None


def validate_command(body: Any) -> ValidateCommand:
    """The Validate command of a body the contract layer accepted: read directly when ``type``
    is an integer and the two codes absent or strings, by the schema otherwise (which refuses as
    before). A property test holds the two to the same command or refusal."""
    if type(body) is dict:
        kind, bar_code, line = body.get("type"), body.get("bar_code"), body.get("digitable_line")
        if type(kind) is int and _text(bar_code) and _text(line):
            return ValidateCommand(kind, bar_code, line)
    return _VALIDATE.load(body)


def pay_command(body: Any) -> PayCommand:
    """The Pay command, read directly from a plain body (as ``validate_command``), by the schema
    otherwise."""
    if type(body) is dict:
        account_id, amount = body.get("account_id"), _money(body.get("amount"))
        currency, authorization = body.get("currency_code"), body.get("external_authorization")
        slip = body.get("bankslip", _ABSENT)
        if type(account_id) is int and amount is not None and _text(currency) and _text(authorization):
            if slip is _ABSENT or slip is None:
                return PayCommand(account_id, amount, None, currency, authorization)
            if type(slip) is dict:
                kind, bar_code, line = slip.get("type"), slip.get("bar_code"), slip.get("digitable_line")
                original = slip.get("original_amount")
                original_amount = _money(original)
                if (
                    type(kind) is int
                    and _text(bar_code)
                    and _text(line)
                    and (original is None or original_amount is not None)
                ):
                    return PayCommand(
                        account_id,
                        amount,
                        SlipReference(kind, bar_code, line, original_amount),
                        currency,
                        authorization,
                    )
    return _PAY.load(body)
