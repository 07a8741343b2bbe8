"""ERRATA E-15: an integer parameter is plain ASCII digits (optionally "-"); anything else
("47009.0", "1_0", "+5", " 5", "²", Arabic-Indic digits) is refused with the operation's
invalid-parameter error, never coerced and never a 500."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RECEIPTS = "/integrated-payments/v1/bankslips/receipts"
HTTP = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.mark.parametrize("written", ["47009.0", "4.7009e4"])
def test_an_integer_query_parameter_written_as_a_float_is_a_400_not_a_coercion(client, written):
    response = client.get(f"/_sandbox/bankslips?tenant_id=TN-none&account_id={written}")
    assert response.status_code == 400
    assert "account_id" in response.get_json()["details"]


def test_the_same_parameter_in_canonical_form_is_accepted_and_reaches_the_view(client):
    response = client.get("/_sandbox/bankslips?tenant_id=TN-none&account_id=47009")
    assert response.status_code == 404  # validated, then the tenant is looked up


@pytest.mark.parametrize("written", ["--1", "1_0", "+5", " 5", "5 ", "²", "١", "٣٤", "0x10", "1e3"])
def test_integers_not_written_in_ascii_digits_are_the_documented_400(client, tenant, written):
    response = client.get(f"{RECEIPTS}?authorizationId={quote(written)}", headers=tenant.headers)
    assert (response.status_code, response.json["code"]) == (400, "EIP0008")
    assert "authorizationId" in response.json["details"]


@HTTP
@given(text=st.text(min_size=1, max_size=12).filter(lambda t: not re.fullmatch(r"-?[0-9]+", t)))
def test_any_other_text_in_an_integer_parameter_is_a_400_never_a_500(client, tenant, text):
    response = client.get(f"{RECEIPTS}?perPage={quote(text)}", headers=tenant.headers)
    assert (response.status_code, response.json["code"]) == (400, "EIP0008"), response.json


@HTTP
@given(number=st.integers(1, 100), zeros=st.integers(0, 3))
def test_digits_in_range_are_read_as_the_number_they_spell(client, tenant, number, zeros):
    response = client.get(f"{RECEIPTS}?perPage={'0' * zeros}{number}", headers=tenant.headers)
    assert (response.status_code, response.json["per_page"]) == (200, number)
