"""The credential command is built directly from a plain body and by the marshmallow schema
otherwise: for any body, both ways give the same command, or the same refusal."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from pismo_sandbox.domains.credentials.schemas import UpsertCredential, UpsertCredentialSchema, upsert_command

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
field_values = st.one_of(st.text(max_size=12), json_values)
provider_data = st.one_of(
    json_values, st.fixed_dictionaries({}, optional={"client_id": field_values, "other": json_values})
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "key": field_values,
            "provider": field_values,
            "type": field_values,
            "provider_data": provider_data,
            "unknown": json_values,
        },
    ),
)


def _schema_verdict(body):
    try:
        return UpsertCredentialSchema().load(body)
    except ValidationError as refusal:
        return ("refused", refusal.messages)


def _direct_verdict(body):
    try:
        return upsert_command(body)
    except ValidationError as refusal:
        return ("refused", refusal.messages)


@settings(max_examples=200, deadline=None)
@given(bodies)
def test_any_body_gives_the_schemas_command_or_its_refusal(body):
    assert _direct_verdict(body) == _schema_verdict(body)


def test_a_plain_body_becomes_the_command_with_its_client_id():
    body = {"key": "k", "provider": "CELCOIN", "type": "BAAS", "provider_data": {"client_id": "c-1"}}
    assert upsert_command(body) == UpsertCredential(key="k", provider="CELCOIN", type="BAAS", client_id="c-1")
    assert upsert_command({"key": "k", "provider": "P", "type": "T"}).client_id is None


def test_a_body_missing_a_field_is_refused_as_the_schema_refuses_it():
    refused = _direct_verdict({"provider": "CELCOIN", "type": "BAAS"})
    assert refused == ("refused", {"key": ["Missing data for required field."]})
