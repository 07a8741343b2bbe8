"""Property tests of the Brazilian scheme rules: every valid scheme is registered as sent (branch
padded), and every kind of invalid input is 400 EIBA0009 naming its field, leaving nothing behind.
Over HTTP (contract + service), and directly against the rule function for many more cases."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pismo_sandbox.domains.bank_accounts import ispb
from pismo_sandbox.domains.bank_accounts.schemas import RegisterBrazilAccount
from pismo_sandbox.domains.bank_accounts.service import ACCOUNT_TYPES, TRIGGERS, scheme_problems

BASE = "/intl-bankaccounts/v2/accounts"
ISPBS = sorted(ispb.institutions())
HTTP = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# -- valid inputs --------------------------------------------------------------------------------

banks = st.sampled_from(ISPBS) | st.from_regex(r"\A[0-9]{8}\Z")  # listed or not (ERRATA S-09)
branches = st.from_regex(r"\A[0-9]{1,4}\Z")
account_numbers = st.from_regex(r"\A[1-9][0-9]{0,12}\Z").filter(lambda n: n not in TRIGGERS)
account_types = st.sampled_from(ACCOUNT_TYPES)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
metadata = st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.recursive(
        json_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    ),
    max_size=4,
)


def _body(bank, branch, account_number, account_type, meta=None) -> dict:
    body = {
        "scheme": {
            "bank": bank,
            "branch": branch,
            "account_number": account_number,
            "supplementary_data": {"account_type": account_type},
        }
    }
    if meta is not None:
        body["metadata"] = meta
    return body


# -- invalid inputs, one kind at a time: (field named in details, value) ------------------------

# Digits of other scripts (Arabic-Indic, fullwidth, Devanagari) are digits to str.isdigit but not here.
OTHER_DIGITS = "٠١٢٣٤٥٦٧٨٩０１２３४५"
NON_DIGITS = st.sampled_from(OTHER_DIGITS) | st.characters(blacklist_categories=("Cs",)).filter(
    lambda c: c not in string.digits
)


def _with_a_non_digit(min_size: int, max_size: int):
    """Strings of the right length with at least one character that is not an ASCII digit
    (letters, punctuation, spaces, and non-ASCII digits such as '٣')."""
    return st.tuples(
        st.text(alphabet=string.digits, min_size=min_size - 1, max_size=max_size - 1),
        NON_DIGITS,
        st.integers(0, max_size),
    ).map(lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :])


invalid_banks = st.one_of(
    _with_a_non_digit(8, 8).filter(lambda s: len(s) == 8),
    st.from_regex(r"\A[0-9]{0,7}\Z"),  # too short
    st.from_regex(r"\A[0-9]{9,12}\Z"),  # too long
    st.integers(0, 99_999_999),  # not a string
)
invalid_branches = st.one_of(
    _with_a_non_digit(1, 4).filter(lambda s: 1 <= len(s) <= 4),
    st.just(""),
    st.from_regex(r"\A[0-9]{5,8}\Z"),
    st.integers(0, 9999),
)
invalid_account_numbers = st.one_of(
    _with_a_non_digit(1, 13).filter(lambda s: 1 <= len(s) <= 13),
    st.from_regex(r"\A0[0-9]{0,12}\Z"),  # leading zero
    st.just(""),
    st.from_regex(r"\A[1-9][0-9]{13,16}\Z"),  # too long
    st.integers(1, 10**12),
)
invalid_account_types = st.one_of(
    st.text(max_size=6).filter(lambda s: s not in ACCOUNT_TYPES),
    st.sampled_from([t.lower() for t in ACCOUNT_TYPES]),
    st.integers(),
)
invalid_metadata = st.one_of(
    st.integers(), st.text(max_size=5), st.booleans(), st.none(), st.lists(st.integers(), max_size=3)
)

INVALID = {
    "scheme.bank": invalid_banks,
    "scheme.branch": invalid_branches,
    "scheme.account_number": invalid_account_numbers,
    "scheme.supplementary_data.account_type": invalid_account_types,
    "metadata": invalid_metadata,
}
one_invalid_field = st.sampled_from(sorted(INVALID)).flatmap(lambda field: st.tuples(st.just(field), INVALID[field]))


def _break(body: dict, field: str, value) -> dict:
    if field == "metadata":
        return {**body, "metadata": value}
    if field == "scheme.supplementary_data.account_type":
        body["scheme"]["supplementary_data"]["account_type"] = value
    else:
        body["scheme"][field.split(".")[1]] = value
    return body


def _fields_named(details: str) -> set[str]:
    return {part.split(":")[0].strip() for part in details.split(";")}


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_account(client, sandbox):
    """Factory: a new NORMAL account in one tenant, with its account token (one per example)."""
    created = sandbox.create_tenant()

    def _new() -> tuple[int, dict]:
        account_id = sandbox.create_account(created["tenant_id"])
        return account_id, {"Authorization": f"Bearer {sandbox.login(created, account_id)}"}

    return _new


@HTTP
@given(
    bank=banks, branch=branches, account_number=account_numbers, account_type=account_types, meta=st.none() | metadata
)
def test_every_valid_scheme_is_registered_and_read_back_as_sent(
    client, fresh_account, bank, branch, account_number, account_type, meta
):
    account_id, headers = fresh_account()
    response = client.post(
        f"{BASE}/{account_id}/bank-accounts/brazil",
        headers=headers,
        json=_body(bank, branch, account_number, account_type, meta),
    )
    assert response.status_code == 201, response.json
    expected = {
        "bank": bank,
        "branch": branch.zfill(4),
        "account_number": account_number,
        "supplementary_data": {"account_type": account_type},
    }
    assert response.json["scheme"] == expected
    assert response.json["metadata"] == (meta or {})
    read = client.get(f"{BASE}/{account_id}/bank-accounts/BRAZIL", headers=headers)
    assert read.status_code == 200
    assert read.json["scheme"] == expected and read.json["metadata"] == (meta or {})
    assert response.json["metadata"] == read.json["metadata"]  # the answer as the stored row reads back


@HTTP
@given(broken=one_invalid_field)
def test_each_kind_of_invalid_input_is_EIBA0009_naming_its_field(client, sandbox, tenant, broken):
    field, value = broken
    body = _break(_body(ISPBS[0], "1", "1", "CACC"), field, value)
    url = f"{BASE}/{tenant.account_id}/bank-accounts/brazil"
    response = client.post(url, json=body, headers=tenant.headers)
    assert response.status_code == 400, response.json
    assert response.json["code"] == "EIBA0009"
    assert _fields_named(response.json["details"]) == {field}
    read = client.get(f"{BASE}/{tenant.account_id}/bank-accounts/BRAZIL", headers=tenant.headers)
    assert read.status_code == 404
    assert sandbox.events(tenant_id=tenant.tenant_id) == []


@HTTP
@given(
    fields=st.sets(st.sampled_from(["scheme.bank", "scheme.branch", "scheme.account_number"]), min_size=1),
    data=st.data(),
)
def test_every_broken_scheme_rule_is_named_at_once(client, tenant, fields, data):
    """Rules the service checks (the contract passed): all failures are reported together."""
    body = _body(ISPBS[0], "1", "1", "CACC")
    string_kinds = {
        "scheme.bank": _with_a_non_digit(8, 8).filter(lambda s: len(s) == 8),
        "scheme.branch": _with_a_non_digit(1, 4).filter(lambda s: 1 <= len(s) <= 4),
        "scheme.account_number": st.from_regex(r"\A0[0-9]{0,12}\Z"),
    }
    for field in fields:
        body = _break(body, field, data.draw(string_kinds[field], label=field))
    response = client.post(f"{BASE}/{tenant.account_id}/bank-accounts/brazil", json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert _fields_named(response.json["details"]) == set(fields)


# -- the rule function, many more cases ----------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(bank=banks, branch=branches, account_number=account_numbers, account_type=account_types, meta=metadata)
def test_scheme_rules_accept_every_valid_scheme(bank, branch, account_number, account_type, meta):
    command = RegisterBrazilAccount(bank, branch, account_number, account_type, meta)
    assert scheme_problems(command) == []


@settings(max_examples=200, deadline=None)
@given(broken=one_invalid_field)
def test_scheme_rules_name_the_one_broken_field(broken):
    field, value = broken
    assume(isinstance(value, str) or field == "metadata")  # the contract rejects other JSON types
    assume(field != "metadata" or not isinstance(value, dict))
    values = {"bank": ISPBS[0], "branch": "1", "account_number": "1", "account_type": "CACC", "metadata": {}}
    values[field.rsplit(".", 1)[-1]] = value
    problems = scheme_problems(RegisterBrazilAccount(**values))
    assert len(problems) == 1
    assert problems[0].startswith(field + ": ")


@settings(max_examples=200, deadline=None)
@given(bank=st.from_regex(r"\A[0-9]{8}\Z"))
def test_any_eight_digits_pass_when_the_ispb_list_is_not_enforced(bank):
    command = RegisterBrazilAccount(bank, "1", "1", "CACC", {})
    assert scheme_problems(command, strict_ispb=False) == []
    assert (scheme_problems(command, strict_ispb=True) == []) == (bank in ispb.institutions())
