"""ERRATA E-15: an integer parameter written as a float ("47009.0") is refused, not coerced."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("written", ["47009.0", "4.7009e4"])
def test_an_integer_query_parameter_written_as_a_float_is_a_400_not_a_coercion(client, written):
    response = client.get(f"/_sandbox/bankslips?tenant_id=TN-none&account_id={written}")
    assert response.status_code == 400
    assert "account_id" in response.get_json()["details"]


def test_the_same_parameter_in_canonical_form_is_accepted_and_reaches_the_view(client):
    response = client.get("/_sandbox/bankslips?tenant_id=TN-none&account_id=47009")
    assert response.status_code == 404  # validated, then the tenant is looked up
