"""Brazilian bank accounts over HTTP: register (seed 002), get and delete (sandbox-authored),
every documented error, the order of checks, events, isolation and trigger values."""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contracts.bundle import parse_document, read_text
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.domains.bank_accounts.service import TRIGGERS
from pismo_sandbox.core import EXTENSION
from tests.conftest import Sandbox

BASE = "/intl-bankaccounts/v2/accounts"
BANCO_DO_BRASIL, ITAU = "00000000", "60701190"
NOT_AN_ISPB = "12345678"  # 8 digits, no institution in the bundled list
GET_OP = "get-intl-bank-accounts-v2-bank-accounts-account-id-bank-accounts-scheme-name"
DELETE_OP = "delete-intl-bank-accounts-v2-accounts-account-id-bank-accounts-scheme-name"


def _register_url(account_id) -> str:
    return f"{BASE}/{account_id}/bank-accounts/brazil"


def _url(account_id, scheme: str = "BRAZIL") -> str:
    return f"{BASE}/{account_id}/bank-accounts/{scheme}"


def _body(
    bank=BANCO_DO_BRASIL, branch="186", account_number="1773065291", account_type="CACC", metadata=None, **extra
) -> dict:
    body = {
        "scheme": {
            "bank": bank,
            "branch": branch,
            "account_number": account_number,
            "supplementary_data": {"account_type": account_type},
        },
        **extra,
    }
    if metadata is not None:
        body["metadata"] = metadata
    return body


def _register(client, tenant, **body):
    return client.post(_register_url(tenant.account_id), json=_body(**body), headers=tenant.headers)


def _events(sandbox, tenant) -> list[dict]:
    return sandbox.events(tenant_id=tenant.tenant_id, domain="intl-bankaccounts")


def _rows(db_path, tenant) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT account_id, status, scheme FROM bank_accounts WHERE tenant_id = ? ORDER BY id", [tenant.tenant_id]
        ).fetchall()


def _set_status(client, tenant, status: str) -> None:
    response = client.patch(
        f"/_sandbox/tenants/{tenant.tenant_id}/accounts/{tenant.account_id}", json={"status": status}
    )
    assert response.status_code == 200, response.json


def _assert_nothing_registered(client, sandbox, tenant) -> None:
    response = client.get(_url(tenant.account_id), headers=tenant.headers)
    assert (response.status_code, response.json["code"]) == (404, "EIBA0029")
    assert _events(sandbox, tenant) == []


def _freeze_clock(client, moment: str) -> None:
    assert client.post("/_sandbox/clock", json={"now": moment, "freeze": True}).status_code == 200


def _token_for(app, tenant_id: str, account_id: int | None) -> dict:
    """A validly signed token the HTTP API would never issue (its account is not in the tenant)."""
    token = app.extensions[EXTENSION].tokens.issue(tenant_id, account_id).token
    return {"Authorization": f"Bearer {token}"}


# -- register ----------------------------------------------------------------------------------


def test_register_answers_201_with_the_documented_body(client, tenant):
    response = _register(client, tenant, metadata={"nickname": "salary", "tags": ["a", 1]})
    assert response.status_code == 201
    assert response.json == {
        "account_id": tenant.account_id,
        "creation_datetime": response.json["creation_datetime"],
        "scheme": {
            "bank": BANCO_DO_BRASIL,
            "branch": "0186",
            "account_number": "1773065291",
            "supplementary_data": {"account_type": "CACC"},
        },
        "metadata": {"nickname": "salary", "tags": ["a", 1]},
    }
    assert response.headers["x-cid"]


def test_creation_datetime_comes_from_the_sandbox_clock(client, sandbox):
    _freeze_clock(client, "2031-02-03T04:05:06Z")
    tenant = sandbox.tenant()  # tokens are checked against the same clock: log in after moving it
    response = _register(client, tenant)
    assert response.json["creation_datetime"] == "2031-02-03T04:05:06.000Z"
    assert (
        client.get(_url(tenant.account_id), headers=tenant.headers).json["creation_datetime"]
        == "2031-02-03T04:05:06.000Z"
    )


@pytest.mark.parametrize(
    "branch,stored", [("1", "0001"), ("42", "0042"), ("186", "0186"), ("0186", "0186"), ("9999", "9999"), ("0", "0000")]
)
def test_branch_is_stored_and_returned_left_padded_to_four_digits(client, tenant, branch, stored):
    assert _register(client, tenant, branch=branch).json["scheme"]["branch"] == stored
    assert client.get(_url(tenant.account_id), headers=tenant.headers).json["scheme"]["branch"] == stored


def test_metadata_is_optional_and_answers_an_empty_object(client, sandbox, tenant):
    response = client.post(_register_url(tenant.account_id), json=_body(), headers=tenant.headers)
    assert response.status_code == 201
    assert response.json["metadata"] == {}
    assert _events(sandbox, tenant)[0]["data"]["metadata"] == {}


def test_fields_the_schema_does_not_name_are_ignored_and_not_stored(client, tenant):
    body = _body(extra_top="x")
    body["scheme"]["nickname"] = "mine"
    body["scheme"]["supplementary_data"]["holder"] = "someone"
    response = client.post(_register_url(tenant.account_id), json=body, headers=tenant.headers)
    assert response.status_code == 201
    stored = client.get(_url(tenant.account_id), headers=tenant.headers).json
    assert "nickname" not in stored["scheme"] and "extra_top" not in stored
    assert stored["scheme"]["supplementary_data"] == {"account_type": "CACC"}


def test_register_emits_bank_account_registered_in_the_same_request(client, sandbox):
    _freeze_clock(client, "2030-05-06T07:08:09Z")
    tenant = sandbox.tenant()
    response = client.post(
        _register_url(tenant.account_id),
        headers={**tenant.headers, "x-cid": "drill-cid-1"},
        json=_body(account_type="SLRY", metadata={"k": "v"}),
    )
    assert response.status_code == 201
    assert response.headers["x-cid"] == "drill-cid-1"
    [event] = _events(sandbox, tenant)
    assert event["domain"] == "intl-bankaccounts"
    assert event["event_type"] == "intl_bankaccount_register-1"
    assert event["org_id"] == tenant.tenant_id
    assert event["cid"] == "drill-cid-1"
    assert event["timestamp"] == "2030-05-06T07:08:09.000Z"
    assert event["data"] == {
        "account_id": tenant.account_id,
        "creation_datetime": "2030-05-06T07:08:09.000Z",
        "scheme": {
            "bank": BANCO_DO_BRASIL,
            "branch": "0186",
            "account_number": "1773065291",
            "supplementary_data": {"account_type": "SLRY"},
        },
        "type": "SLRY",
        "metadata": {"k": "v"},
    }


def test_second_registration_is_EIBA0028_and_keeps_the_first(client, sandbox, tenant):
    assert _register(client, tenant, bank=BANCO_DO_BRASIL, account_number="111").status_code == 201
    response = _register(client, tenant, bank=ITAU, account_number="222")
    assert response.status_code == 409
    assert response.json["code"] == "EIBA0028"
    assert response.json["message"] == "IntlBankAccount - Already Exists"
    stored = client.get(_url(tenant.account_id), headers=tenant.headers).json
    assert (stored["scheme"]["bank"], stored["scheme"]["account_number"]) == (BANCO_DO_BRASIL, "111")
    assert len(_events(sandbox, tenant)) == 1


def test_one_bank_account_per_pismo_account_not_per_tenant(client, sandbox, tenant):
    second_account = sandbox.create_account(tenant.tenant_id)
    tenant_row = {"server_key": tenant.server_key, "server_secret": tenant.server_secret}
    headers = {"Authorization": f"Bearer {sandbox.login(tenant_row, second_account)}"}
    assert _register(client, tenant).status_code == 201
    response = client.post(_register_url(second_account), json=_body(), headers=headers)
    assert response.status_code == 201
    assert response.json["account_id"] == second_account


def test_uniqueness_is_a_partial_unique_index_in_the_schema(client, db_path):
    with sqlite3.connect(db_path) as conn:
        [(sql,)] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'bank_accounts_one_active'")
    assert "UNIQUE INDEX" in sql and "WHERE status = 'ACTIVE'" in sql


# -- get and delete ----------------------------------------------------------------------------


def test_get_returns_the_registered_account_with_its_status(client, tenant):
    created = _register(client, tenant, metadata={"a": {"b": [1, 2]}}).json
    response = client.get(_url(tenant.account_id), headers=tenant.headers)
    assert response.status_code == 200
    assert response.json == {**created, "status": "ACTIVE"}
    assert response.headers["x-cid"]


def test_get_and_delete_of_an_unregistered_scheme_are_EIBA0029(client, sandbox, tenant):
    for method in ("GET", "DELETE"):
        response = client.open(_url(tenant.account_id), method=method, headers=tenant.headers)
        assert response.status_code == 404
        assert response.json["code"] == "EIBA0029"
        assert response.json["message"] == "IntlBankAccount - Not Found"
    assert _events(sandbox, tenant) == []


@pytest.mark.parametrize("scheme", ["IBAN", "UK-SCAN", "BBAN", "ACH", "FEDWIRE", "CLABE"])
def test_other_schemes_are_valid_but_never_found(client, sandbox, tenant, scheme):
    assert _register(client, tenant).status_code == 201
    for method in ("GET", "DELETE"):
        response = client.open(_url(tenant.account_id, scheme), method=method, headers=tenant.headers)
        assert (response.status_code, response.json["code"]) == (404, "EIBA0029")
    assert client.get(_url(tenant.account_id), headers=tenant.headers).status_code == 200
    assert len(_events(sandbox, tenant)) == 1


@pytest.mark.parametrize("scheme", ["brazil", "Brazil", "PIX", "SWIFT"])
def test_scheme_name_outside_the_enum_is_EIBA0009(client, tenant, scheme):
    _register(client, tenant)
    for method in ("GET", "DELETE"):
        response = client.open(_url(tenant.account_id, scheme), method=method, headers=tenant.headers)
        assert (response.status_code, response.json["code"]) == (400, "EIBA0009")
    assert client.get(_url(tenant.account_id), headers=tenant.headers).status_code == 200


def test_delete_answers_204_and_emits_bank_account_updated_with_status_deleted(client, sandbox, db_path):
    _freeze_clock(client, "2032-01-01T00:00:00Z")
    tenant = sandbox.tenant()
    _register(client, tenant, account_type="SVGS", metadata={"m": 1})
    sandbox.advance_clock(90)
    response = client.delete(_url(tenant.account_id), headers={**tenant.headers, "x-cid": "drill-del"})
    assert response.status_code == 204
    assert response.data == b"" and "Content-Type" not in response.headers
    assert client.get(_url(tenant.account_id), headers=tenant.headers).status_code == 404
    registered, updated = _events(sandbox, tenant)
    assert updated["event_type"] == "intl_bankaccount_update-1"
    assert updated["cid"] == "drill-del"
    assert updated["data"] == {
        "account_id": tenant.account_id,
        "scheme": registered["data"]["scheme"],
        "status": "DELETED",
        "updated_datetime": "2032-01-01T00:01:30.000Z",
        "type": "SVGS",
        "metadata": {"m": 1},
    }
    assert [status for _, status, _ in _rows(db_path, tenant)] == ["DELETED"]  # history is kept


def test_a_deleted_bank_account_can_be_registered_again(client, sandbox, tenant, db_path):
    _register(client, tenant, bank=BANCO_DO_BRASIL)
    assert client.delete(_url(tenant.account_id), headers=tenant.headers).status_code == 204
    again = _register(client, tenant, bank=ITAU)
    assert again.status_code == 201
    assert client.get(_url(tenant.account_id), headers=tenant.headers).json["scheme"]["bank"] == ITAU
    assert [status for _, status, _ in _rows(db_path, tenant)] == ["DELETED", "ACTIVE"]
    assert [e["event_type"] for e in _events(sandbox, tenant)] == [
        "intl_bankaccount_register-1",
        "intl_bankaccount_update-1",
        "intl_bankaccount_register-1",
    ]
    # ...and a second delete of the same registration finds nothing.
    assert client.delete(_url(tenant.account_id), headers=tenant.headers).status_code == 204
    response = client.delete(_url(tenant.account_id), headers=tenant.headers)
    assert (response.status_code, response.json["code"]) == (404, "EIBA0029")


# -- account status ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["BLOCKED", "CANCELLED", "PENDING", "CREATED"])
def test_register_needs_a_normal_account(client, sandbox, status):
    tenant = sandbox.tenant(status=status)
    response = _register(client, tenant)
    assert response.status_code == 403
    assert response.json == {
        "code": "EIBA0023",
        "message": "Account status not NORMAL",
        "details": f"account status is {status}",
    }
    _assert_nothing_registered(client, sandbox, tenant)


def test_a_blocked_account_can_read_but_not_register_or_delete(client, sandbox, tenant):
    created = _register(client, tenant).json
    _set_status(client, tenant, "BLOCKED")
    assert client.get(_url(tenant.account_id), headers=tenant.headers).json == {**created, "status": "ACTIVE"}
    response = client.delete(_url(tenant.account_id), headers=tenant.headers)
    assert (response.status_code, response.json["code"]) == (403, "EIBA0023")
    assert client.get(_url(tenant.account_id), headers=tenant.headers).status_code == 200
    assert len(_events(sandbox, tenant)) == 1
    _set_status(client, tenant, "NORMAL")
    assert client.delete(_url(tenant.account_id), headers=tenant.headers).status_code == 204


# -- the Pismo account: existence, ownership, isolation ----------------------------------------


def test_an_account_missing_from_the_tokens_tenant_is_EIBA0010(app, client, sandbox, tenant):
    headers = _token_for(app, tenant.tenant_id, 987_654_321)
    for method, url, body in [
        ("POST", _register_url(987_654_321), _body()),
        ("GET", _url(987_654_321), None),
        ("DELETE", _url(987_654_321), None),
    ]:
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 404, method
        assert response.json["code"] == "EIBA0010" and response.json["message"] == "Account not found"
    assert sandbox.events(tenant_id=tenant.tenant_id) == []


def test_another_tenants_account_is_invisible_even_with_its_id_in_the_token(app, client, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    _register(client, bob)
    forged = _token_for(app, alice.tenant_id, bob.account_id)  # alice's tenant, bob's account id
    response = client.get(_url(bob.account_id), headers=forged)
    assert (response.status_code, response.json["code"]) == (404, "EIBA0010")
    response = client.delete(_url(bob.account_id), headers=forged)
    assert (response.status_code, response.json["code"]) == (404, "EIBA0010")
    assert client.get(_url(bob.account_id), headers=bob.headers).status_code == 200


def test_another_accounts_path_is_EIBA0007_whether_it_exists_or_not(client, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    _register(client, bob)
    neighbour = sandbox.create_account(alice.tenant_id)  # same tenant, another account
    answers = []
    for account_id in (bob.account_id, neighbour, 555_555_555):
        for method, url, body in [
            ("POST", _register_url(account_id), _body()),
            ("GET", _url(account_id), None),
            ("DELETE", _url(account_id), None),
        ]:
            response = client.open(url, method=method, json=body, headers=alice.headers)
            assert response.status_code == 403, (account_id, method)
            answers.append(response.json)
    assert all(
        a
        == {
            "code": "EIBA0007",
            "message": "Invalid account ID header: 'x-account-id'",
            "details": "accountId in the path is not the token's account",
        }
        for a in answers
    )
    assert client.get(_url(bob.account_id), headers=bob.headers).status_code == 200
    assert _events(sandbox, alice) == [] and len(_events(sandbox, bob)) == 1


def test_tenants_never_see_each_others_bank_accounts(client, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    _register(client, alice, bank=BANCO_DO_BRASIL)
    _assert_nothing_registered(client, sandbox, bob)
    _register(client, bob, bank=ITAU)
    assert client.get(_url(alice.account_id), headers=alice.headers).json["scheme"]["bank"] == BANCO_DO_BRASIL
    assert client.get(_url(bob.account_id), headers=bob.headers).json["scheme"]["bank"] == ITAU
    assert [e["data"]["account_id"] for e in _events(sandbox, alice)] == [alice.account_id]


def test_a_tenant_token_without_an_account_is_EIBA0007(client, sandbox):
    created = sandbox.create_tenant()
    account_id = sandbox.create_account(created["tenant_id"])
    headers = {"Authorization": f"Bearer {sandbox.login(created)}"}  # no account_id: tenant token
    for method, url, body in [
        ("POST", _register_url(account_id), _body()),
        ("GET", _url(account_id), None),
        ("DELETE", _url(account_id), None),
    ]:
        response = client.open(url, method=method, json=body, headers=headers)
        assert (response.status_code, response.json["code"]) == (403, "EIBA0007"), method


def test_forwarded_headers_that_disagree_with_the_token_are_EIBA0006_and_EIBA0007(client, sandbox, tenant):
    cases = [({"x-tenant": "TN-someone-else"}, "EIBA0006"), ({"x-account-id": str(tenant.account_id + 1)}, "EIBA0007")]
    for extra, code in cases:
        for method, url, body in [
            ("POST", _register_url(tenant.account_id), _body()),
            ("GET", _url(tenant.account_id), None),
            ("DELETE", _url(tenant.account_id), None),
        ]:
            response = client.open(url, method=method, json=body, headers={**tenant.headers, **extra})
            assert (response.status_code, response.json["code"]) == (403, code), (method, extra)
    _assert_nothing_registered(client, sandbox, tenant)


@pytest.mark.parametrize("account_id", ["abc", "12a", "-1", "1.5", "99999999999999999999", "%20"])
def test_non_numeric_account_id_is_EIBA0009(client, tenant, account_id):
    for method, url, body in [
        ("POST", _register_url(account_id), _body()),
        ("GET", _url(account_id), None),
        ("DELETE", _url(account_id), None),
    ]:
        response = client.open(url, method=method, json=body, headers=tenant.headers)
        assert response.status_code == 400, method
        assert response.json["code"] == "EIBA0009"
        assert response.json["details"] == "accountId: must be a Pismo account id (digits only)"


def test_account_id_is_compared_as_a_number(client, tenant):
    response = client.post(_register_url(f"00{tenant.account_id}"), json=_body(), headers=tenant.headers)
    assert response.status_code == 201
    assert response.json["account_id"] == tenant.account_id


# -- the gateway in front ----------------------------------------------------------------------


def test_missing_or_expired_tokens_are_401(client, sandbox, tenant):
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = client.post(_register_url(tenant.account_id), json=_body(), headers=headers)
        assert (response.status_code, response.json["code"]) == (401, "UNAUTHORIZED")
    sandbox.advance_clock(3600)
    for method, url, body in [
        ("POST", _register_url(tenant.account_id), _body()),
        ("GET", _url(tenant.account_id), None),
        ("DELETE", _url(tenant.account_id), None),
    ]:
        response = client.open(url, method=method, json=body, headers=tenant.headers)
        assert (response.status_code, response.json["code"]) == (401, "UNAUTHORIZED"), method
    assert _events(sandbox, tenant) == []


def test_a_body_over_the_limit_is_413_and_stores_nothing(client, sandbox, tenant):
    response = _register(client, tenant, metadata={"blob": "x" * 70_000})
    assert (response.status_code, response.json["code"]) == (413, "PAYLOAD_TOO_LARGE")
    _assert_nothing_registered(client, sandbox, tenant)


@pytest.mark.parametrize("data", ["{not json", "", "null", "[]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_EIBA0009(client, sandbox, tenant, data):
    response = client.post(
        _register_url(tenant.account_id), data=data, content_type="application/json", headers=tenant.headers
    )
    assert (response.status_code, response.json["code"]) == (400, "EIBA0009")
    _assert_nothing_registered(client, sandbox, tenant)


def test_checks_run_in_the_documented_order(app, client, sandbox, tenant):
    bad_scheme = _body(bank="ABCDEFGH")
    trigger = _body(account_number="9999999990011")

    def post(account_id, body, headers=tenant.headers):
        response = client.post(_register_url(account_id), json=body, headers=headers)
        return response.status_code, response.json.get("code")

    # 401 before the contract; the contract (400) before the account checks.
    assert post(tenant.account_id, {"scheme": 5}, headers={}) == (401, "UNAUTHORIZED")
    assert post(tenant.account_id + 1, {"scheme": 5}) == (400, "EIBA0009")
    # The token/path mismatch (403) before existence (404), which comes before the scheme rules.
    assert post(tenant.account_id + 1, bad_scheme) == (403, "EIBA0007")
    assert post(987_654_321, bad_scheme, headers=_token_for(app, tenant.tenant_id, 987_654_321)) == (404, "EIBA0010")
    # Account status (403) before the scheme rules; scheme rules before trigger values.
    blocked = sandbox.tenant(status="BLOCKED")
    assert post(blocked.account_id, bad_scheme, headers=blocked.headers) == (403, "EIBA0023")
    assert post(tenant.account_id, _body(bank="ABCDEFGH", account_number="9999999990011")) == (400, "EIBA0009")
    # Trigger values before uniqueness.
    assert post(tenant.account_id, _body()) == (201, None)
    assert post(tenant.account_id, trigger) == (500, "EIBA0011")
    assert post(tenant.account_id, _body()) == (409, "EIBA0028")


# -- scheme rules (the property tests cover them widely) ---------------------------------------


@pytest.mark.parametrize(
    "body,field",
    [
        (_body(bank="0000000X"), "scheme.bank"),
        (_body(bank="123"), "scheme.bank"),
        (_body(branch="12a"), "scheme.branch"),
        (_body(branch="١٢"), "scheme.branch"),  # Arabic-Indic digits are not ASCII digits
        (_body(branch="12345"), "scheme.branch"),
        (_body(account_number="0123"), "scheme.account_number"),
        (_body(account_number="12-34"), "scheme.account_number"),
        (_body(account_number="１２３"), "scheme.account_number"),  # fullwidth digits
        (_body(account_number="12345678901234"), "scheme.account_number"),
        (_body(account_type="CHECKING"), "scheme.supplementary_data.account_type"),
        (_body(metadata=[1, 2]), "metadata"),
        ({"scheme": {"bank": BANCO_DO_BRASIL, "branch": "1", "account_number": "1"}}, "scheme.supplementary_data"),
    ],
)
def test_each_scheme_rule_is_EIBA0009_naming_the_field(client, sandbox, tenant, body, field):
    response = client.post(_register_url(tenant.account_id), json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json["code"] == "EIBA0009" and response.json["message"] == "Validation error"
    assert response.json["details"].startswith(field + ":") or f"; {field}:" in response.json["details"]
    _assert_nothing_registered(client, sandbox, tenant)


def test_every_broken_rule_is_named_in_one_answer(client, tenant):
    response = _register(client, tenant, bank="ABCDEFGH", branch="x", account_number="007")
    assert response.json["details"] == (
        "scheme.bank: must be 8 digits (an ISPB); "
        "scheme.branch: must be 1 to 4 digits; "
        "scheme.account_number: must not start with a zero"
    )


def test_details_never_echo_the_values(client, tenant):
    response = _register(client, tenant, bank="QWERTYUI", branch="ZXCV", account_number="ASDFGHJKL")
    assert response.status_code == 400
    for value in ("QWERTYUI", "ZXCV", "ASDFGHJKL"):
        assert value not in response.get_data(as_text=True)


def test_any_eight_digits_are_a_bank_by_default_and_the_ispb_list_is_opt_in(client, tenant, tmp_path):
    response = client.post(_register_url(tenant.account_id), json=_body(bank=NOT_AN_ISPB), headers=tenant.headers)
    assert response.status_code == 201
    assert response.json["scheme"]["bank"] == NOT_AN_ISPB
    # ...but it must still be 8 ASCII digits.
    client.delete(_url(tenant.account_id), headers=tenant.headers)
    for bank in ("1234567X", "١٢٣٤٥٦٧٨"):
        response = client.post(_register_url(tenant.account_id), json=_body(bank=bank), headers=tenant.headers)
        assert (response.status_code, response.json["details"]) == (400, "scheme.bank: must be 8 digits (an ISPB)")
    strict = create_app(Config.from_env({"PISMO_SANDBOX_STRICT_ISPB": "true"}, db_path=str(tmp_path / "strict.db")))
    strict_client = strict.test_client()
    other = Sandbox(strict_client).tenant()
    refused = strict_client.post(_register_url(other.account_id), json=_body(bank=NOT_AN_ISPB), headers=other.headers)
    assert refused.status_code == 400 and refused.json["details"].startswith("scheme.bank: must be the ISPB")
    listed = strict_client.post(_register_url(other.account_id), json=_body(bank=ITAU), headers=other.headers)
    assert listed.status_code == 201


# -- trigger values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account_number,status,code,message",
    [
        ("9999999990005", 500, "EIBA0005", "HTTP error"),
        ("9999999990011", 500, "EIBA0011", "Accounts - API returned 5xx error"),
        ("9999999990012", 400, "EIBA0012", "Accounts - API returned 4xx error"),
        ("9999999990013", 500, "EIBA0013", "Accounts - API timeout"),
        ("9999999990015", 500, "EIBA0015", "Database internal error"),
    ],
)
def test_trigger_values_answer_the_documented_failure_and_change_nothing(
    client, sandbox, tenant, db_path, account_number, status, code, message
):
    response = _register(client, tenant, account_number=account_number)
    assert response.status_code == status
    assert response.json == {
        "code": code,
        "message": message,
        "details": "sandbox trigger value of scheme.account_number",
    }
    _assert_nothing_registered(client, sandbox, tenant)
    assert _rows(db_path, tenant) == []
    # ...and an existing registration is left exactly as it was.
    created = _register(client, tenant).json
    assert _register(client, tenant, account_number=account_number).status_code == status
    assert client.get(_url(tenant.account_id), headers=tenant.headers).json == {**created, "status": "ACTIVE"}
    assert len(_events(sandbox, tenant)) == 1


def test_the_trigger_catalogue_covers_every_documented_upstream_failure():
    assert sorted(error.code for error in TRIGGERS.values()) == [
        "EIBA0005",
        "EIBA0011",
        "EIBA0012",
        "EIBA0013",
        "EIBA0015",
    ]
    seed = parse_document("intl-bankaccounts.v2.json", read_text("intl-bankaccounts.v2.json"))
    responses = seed["paths"]["/v2/accounts/{accountId}/bank-accounts/brazil"]["post"]["responses"]
    for error in TRIGGERS.values():
        assert error.code in responses[str(error.status)]["content"]["application/json"]["examples"]


def test_get_and_delete_failures_can_be_drilled_with_fault_rules(client, sandbox, tenant):
    _register(client, tenant)
    rule = {"match": {"operation_id": DELETE_OP}, "action": {"type": "status", "status": 500}, "phase": "before"}
    assert client.post("/_sandbox/faults", json=rule).status_code == 201
    response = client.delete(_url(tenant.account_id), headers=tenant.headers)
    assert response.status_code == 500
    assert response.json["code"] == "EIBA0005"  # the first example the spec documents for 500
    assert client.get(_url(tenant.account_id), headers=tenant.headers).status_code == 200
    assert len(_events(sandbox, tenant)) == 1


# -- the sandbox-authored spec -----------------------------------------------------------------


def test_the_read_spec_reuses_seed_002_schemas_and_error_map_unchanged():
    seed = parse_document("intl-bankaccounts.v2.json", read_text("intl-bankaccounts.v2.json"))
    authored = yaml.safe_load(read_text("intl-bankaccounts-read.yaml"))
    overlay = yaml.safe_load(read_text("intl-bankaccounts.v2.overlay.yaml"))
    for name, schema in seed["components"]["schemas"].items():
        if name in authored["components"]["schemas"]:
            assert authored["components"]["schemas"][name] == schema, name
    assert {"brazilBank", "brazilBranch", "brazilAccountNumber", "intlbankaccounts.BrazilScheme"} <= set(
        authored["components"]["schemas"]
    )
    [error_map] = [p["value"] for p in overlay["patches"] if p["path"] == "/x-sandbox-errors"]
    assert authored["x-sandbox-errors"] == error_map


def test_get_and_delete_are_served_from_the_sandbox_authored_spec():
    contract = load_contract()
    for operation_id in (GET_OP, DELETE_OP):
        op = contract.by_id[operation_id]
        assert op.spec == "intl-bankaccounts-read"
        assert op.url_path == "/intl-bankaccounts/v2/accounts/{accountId}/bank-accounts/{schemeName}"
        assert op.requires_account
        assert {"400", "401", "403", "404", "413", "500"} <= op.declared_statuses
