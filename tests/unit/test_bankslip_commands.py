"""The Validate and Pay commands are built directly from a plain body and by the marshmallow
schemas otherwise: for any body, both ways give the same command, or the same refusal."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from pismo_sandbox.domains.bankslips.schemas import (
    PayCommand,
    PaySchema,
    SlipReference,
    ValidateSchema,
    pay_command,
    validate_command,
)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
numbers = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.floats(allow_infinity=False, allow_nan=False, min_value=0, max_value=1e9),
    json_values,
)
texts = st.one_of(st.none(), st.text(max_size=10), json_values)
slips = st.one_of(
    st.none(),
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "type": numbers,
            "bar_code": texts,
            "digitable_line": texts,
            "original_amount": numbers,
            "other": json_values,
        },
    ),
)
validate_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {}, optional={"type": numbers, "bar_code": texts, "digitable_line": texts, "other": json_values}
    ),
)
pay_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "account_id": numbers,
            "amount": numbers,
            "bankslip": slips,
            "currency_code": texts,
            "external_authorization": texts,
            "other": json_values,
        },
    ),
)


def _verdict(load, body):
    try:
        return load(body)
    except ValidationError as refusal:
        return ("refused", refusal.messages)


def _same(direct, schema):
    # Decimal("1.0") == Decimal("1"): compare the money as text too, so a change of spelling shows
    assert direct == schema
    if isinstance(schema, PayCommand):
        assert str(direct.amount) == str(schema.amount)
        if schema.bankslip is not None:
            assert str(direct.bankslip.original_amount) == str(schema.bankslip.original_amount)


@settings(max_examples=200, deadline=None)
@given(validate_bodies)
def test_any_validate_body_gives_the_schemas_command_or_its_refusal(body):
    _same(_verdict(validate_command, body), _verdict(ValidateSchema().load, body))


@settings(max_examples=200, deadline=None)
@given(pay_bodies)
def test_any_pay_body_gives_the_schemas_command_or_its_refusal(body):
    _same(_verdict(pay_command, body), _verdict(PaySchema().load, body))


def test_a_plain_pay_body_becomes_the_command_with_decimal_money():
    body = {"account_id": 7, "amount": 150.1, "bankslip": {"type": 1, "digitable_line": "2379", "original_amount": 150}}
    assert pay_command(body) == PayCommand(
        7, Decimal("150.1"), SlipReference(1, None, "2379", Decimal("150")), None, None
    )
