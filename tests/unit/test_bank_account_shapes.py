"""The register command is built directly from a plain body and by the marshmallow schema
otherwise, and the 201's body is the schema's dump written out: for any body or stored row,
both ways give the same result (or the same refusal)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from pismo_sandbox.domains.bank_accounts.schemas import (
    BankAccountSchema,
    RegisterBrazilAccount,
    RegisterBrazilAccountSchema,
    created_body,
    register_command,
)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
strings_mostly = st.one_of(st.text(max_size=10), json_values)
supplementary = st.one_of(
    json_values, st.fixed_dictionaries({}, optional={"account_type": strings_mostly, "other": json_values})
)
schemes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "bank": strings_mostly,
            "branch": strings_mostly,
            "account_number": strings_mostly,
            "supplementary_data": supplementary,
            "extra": json_values,
        },
    ),
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "scheme": schemes,
            "metadata": st.one_of(st.dictionaries(st.text(max_size=4), json_values, max_size=3), json_values),
            "unknown": json_values,
        },
    ),
)


def _verdict(load, body):
    try:
        return load(body)
    except ValidationError as refusal:
        return ("refused", refusal.messages)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_any_body_gives_the_schemas_command_or_its_refusal(body):
    assert _verdict(register_command, body) == _verdict(RegisterBrazilAccountSchema().load, body)


def test_a_plain_body_becomes_the_command():
    body = {
        "scheme": {
            "bank": "00000000",
            "branch": "186",
            "account_number": "1773065291",
            "supplementary_data": {"account_type": "CACC"},
        },
        "metadata": {"k": 1},
    }
    assert register_command(body) == RegisterBrazilAccount(
        bank="00000000", branch="186", account_number="1773065291", account_type="CACC", metadata={"k": 1}
    )
    del body["metadata"]
    assert register_command(body).metadata == {}


rows = st.fixed_dictionaries(
    {},
    optional={
        "account_id": st.one_of(st.none(), st.integers()),
        "created_at": st.one_of(st.none(), st.text(max_size=24)),
        "scheme": st.one_of(st.none(), st.dictionaries(st.text(max_size=4), json_values, max_size=3)),
        "metadata": st.one_of(st.none(), st.dictionaries(st.text(max_size=4), json_values, max_size=3)),
        "status": st.text(max_size=8),
        "tenant_id": st.text(max_size=8),
    },
)


@settings(max_examples=150, deadline=None)
@given(rows)
def test_the_created_body_is_the_schemas_dump_of_any_row(row):
    assert created_body(row) == BankAccountSchema().dump(row)
