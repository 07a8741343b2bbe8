"""JSON in and out: what is not JSON (NaN, Infinity, lone surrogates) is refused like any
malformed body and leaves nothing behind; integers stay exact past 64 bits (so the range check
sees them); text round-trips whole, non-ASCII included."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pismo_sandbox.jsonio import MAX_DEPTH

CREDENTIALS = "/banking-auth/v1/credentials"
PAY = "/integrated-payments/v1/bankslips/pay"
VALIDATE = "/integrated-payments/v1/bankslips/validate"
SCHEME = {
    "bank": "00000000",
    "branch": "186",
    "account_number": "1773065291",
    "supplementary_data": {"account_type": "CACC"},
}
HTTP = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _register_url(tenant) -> str:
    return f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/brazil"


# A valid body per operation, as text with a hole ("@") where a value goes.
TEMPLATES = {
    "credentials": (CREDENTIALS, '{"key": @, "provider": "CELCOIN", "type": "BAAS"}'),
    "register": (None, '{"scheme": ' + json.dumps(SCHEME) + ', "metadata": {"note": @}}'),
    "validate": (VALIDATE, '{"type": 1, "digitable_line": @}'),
    "pay": (PAY, '{"account_id": 1, "amount": @, "bankslip": {"type": 1, "digitable_line": "1"}}'),
}
NOT_JSON = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", '"\\ud800"', '"a\\udfffb"', '{"\\ud83d": 1}']


def _post(client, tenant, operation: str, text: str, **headers):
    path, _template = TEMPLATES[operation]
    return client.post(
        path or _register_url(tenant),
        data=text,
        headers={**tenant.headers, "Content-Type": "application/json", "x-idempotency-key": "k-1", **headers},
    )


def _rows(db_path: str) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "credentials",
                "bank_accounts",
                "bankslip_validations",
                "bankslip_payments",
                "idempotency_keys",
                "events",
            )
        }


@pytest.mark.parametrize("operation", sorted(TEMPLATES))
@pytest.mark.parametrize("value", NOT_JSON)
def test_values_json_does_not_have_are_refused_as_malformed_and_change_nothing(
    client, tenant, db_path, operation, value
):
    malformed = _post(client, tenant, operation, "{")  # the operation's own answer to broken JSON
    before = _rows(db_path)
    response = _post(client, tenant, operation, TEMPLATES[operation][1].replace("@", value))
    assert response.status_code == malformed.status_code == 400
    assert response.json["code"] == malformed.json["code"]
    assert response.json["details"] == "request body is not valid JSON"
    assert _rows(db_path) == before


@pytest.mark.parametrize("account_id", [10**30, 2**64 - 1, 2**63, -(2**63) - 1, -(10**25)])
def test_integers_wider_than_64_bits_stay_exact_and_fail_the_range_check(client, tenant, db_path, account_id):
    text = TEMPLATES["pay"][1].replace('"account_id": 1', f'"account_id": {account_id}').replace("@", "10.5")
    before = _rows(db_path)
    response = _post(client, tenant, "pay", text)
    assert (response.status_code, response.json["code"]) == (400, "EIP0008")
    assert response.json["details"] == "account_id: must fit in a 64-bit integer"
    assert _rows(db_path) == before


def test_a_long_digit_string_is_text_not_a_number(client, tenant):
    """Digitable lines are 47 digits in a string: read as the string they are."""
    line = "0019000009011497186016852452211467586000010265"  # 46 digits: not a slip
    response = _post(client, tenant, "validate", TEMPLATES["validate"][1].replace("@", f'"{line}"'))
    assert (response.status_code, response.json["code"]) == (400, "EIP0008")
    assert "digitable_line" in response.json["details"]


def test_non_ascii_text_round_trips_as_utf8(client, tenant):
    note = "Conta em São Paulo — ✓ 🙂"
    created = client.post(
        _register_url(tenant), json={"scheme": SCHEME, "metadata": {"note": note}}, headers=tenant.headers
    )
    assert created.status_code == 201
    assert json.loads(created.get_data().decode("utf-8"))["metadata"] == {"note": note}
    fetched = client.get(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/BRAZIL", headers=tenant.headers
    )
    assert fetched.json["metadata"] == {"note": note}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@HTTP
@given(
    metadata=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 2]),
)
def test_metadata_comes_back_equal_however_the_json_was_written(sandbox, client, metadata, ensure_ascii, indent):
    tenant = sandbox.tenant()
    text = json.dumps({"scheme": SCHEME, "metadata": metadata}, ensure_ascii=ensure_ascii, indent=indent)
    created = client.post(
        _register_url(tenant), data=text.encode(), headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.json
    fetched = client.get(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/BRAZIL", headers=tenant.headers
    )
    assert fetched.json["metadata"] == metadata


@pytest.mark.parametrize("operation", sorted(TEMPLATES))
@pytest.mark.parametrize("depth", [MAX_DEPTH, 1000, 30000])  # the hole is one level down already
def test_bodies_nested_deeper_than_the_limit_are_refused_and_change_nothing(client, tenant, db_path, operation, depth):
    malformed = _post(client, tenant, operation, "{")
    before = _rows(db_path)
    response = _post(client, tenant, operation, TEMPLATES[operation][1].replace("@", "[" * depth + "]" * depth))
    assert (response.status_code, response.json["code"]) == (400, malformed.json["code"])
    assert response.json["details"] == f"request body is nested deeper than {MAX_DEPTH} levels"
    assert _rows(db_path) == before


def test_a_body_nested_to_the_limit_is_registered_and_read_back(client, tenant):
    deepest: list | dict = []
    for _ in range(MAX_DEPTH - 3):  # body -> metadata -> "note" list -> ... (MAX_DEPTH levels in all)
        deepest = [deepest]
    metadata = {"note": deepest}
    created = client.post(_register_url(tenant), json={"scheme": SCHEME, "metadata": metadata}, headers=tenant.headers)
    assert created.status_code == 201, created.json
    fetched = client.get(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/BRAZIL", headers=tenant.headers
    )
    assert fetched.json["metadata"] == metadata


@pytest.mark.parametrize("written", ["1e19", "-1e19", "1e308", "9.3e18"])
def test_whole_numbers_written_as_floats_are_range_checked_too(client, tenant, db_path, written):
    """JSON Schema counts 1e19 as an integer: past 64 bits it is refused, not sent to SQLite."""
    tenant_row = client.post("/_sandbox/tenants", json={}).json
    login = client.post(
        "/passport/v2/s2s/access-token",
        data=(
            f'{{"server_key": "{tenant_row["server_key"]}", "server_secret": "{tenant_row["server_secret"]}",'
            f' "account_id": {written}}}'
        ),
        headers={"Content-Type": "application/json"},
    )
    assert login.status_code == 400 and login.json["details"] == "account_id: must fit in a 64-bit integer"
    text = TEMPLATES["pay"][1].replace('"account_id": 1', f'"account_id": {written}').replace("@", "10.5")
    before = _rows(db_path)
    response = _post(client, tenant, "pay", text)
    assert (response.status_code, response.json["code"]) == (400, "EIP0008")
    assert _rows(db_path) == before
