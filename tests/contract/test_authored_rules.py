"""The sandbox-authored documents state their rules in the schema, where tools that read the
files (Schemathesis, Prism, code generators) see them, not only in prose and server code."""

from __future__ import annotations

import jsonschema_rs
import pytest

from pismo_sandbox.contract.operations import load_contract

INT64_MAX = 2**63 - 1


def _document(name: str) -> dict:
    return load_contract().documents[name]


def _validator(document: dict, schema: dict):
    return jsonschema_rs.Draft202012Validator({**schema, "components": document.get("components", {})})


def _request_schema(document: dict, path: str, method: str = "post") -> dict:
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def _parameter(document: dict, path: str, name: str, method: str = "get") -> dict:
    return next(p for p in document["paths"][path][method]["parameters"] if p.get("name") == name)["schema"]


@pytest.mark.parametrize(
    "body,valid",
    [
        ({"type": 1}, False),
        ({"type": 1, "bar_code": "1"}, True),
        ({"type": 1, "digitable_line": "1"}, True),
        ({"type": 1, "bar_code": "1", "digitable_line": "1"}, True),
    ],
)
def test_validate_needs_one_of_its_two_slip_fields(body, valid):
    document = _document("integrated-payments-validate")
    assert _validator(document, _request_schema(document, "/v1/bankslips/validate")).is_valid(body) is valid


@pytest.mark.parametrize(
    "cursor,valid",
    [
        ("2025-06-02T13:00:00.000Z~42", True),
        ("2025-06-02T13:00:00Z", True),
        ("2025-06-02T10:00:00-03:00~7", True),
        ("not-a-cursor", False),
        ("2025-06-02T13:00:00Z~", False),
        ("2025-06-02", False),
    ],
)
def test_the_receipts_cursor_has_a_pattern(cursor, valid):
    document = _document("integrated-payments-receipts")
    schema = _parameter(document, "/v1/bankslips/receipts", "lastEvaluatedPaymentDatetimeQuery")
    assert _validator(document, schema).is_valid(cursor) is valid


def test_trigger_and_free_field_exclude_each_other():
    document = _document("sandbox-admin-bankslips")
    check = _validator(document, _request_schema(document, "/boletos"))
    assert check.is_valid({"kind": "bank", "trigger": "EIP0024"})
    assert check.is_valid({"kind": "bank", "free_field": "1" * 25})
    assert not check.is_valid({"kind": "bank", "trigger": "EIP0024", "free_field": "1" * 25})


@pytest.mark.parametrize(
    "action,valid",
    [
        ({"type": "status", "status": 503}, True),
        ({"type": "status"}, False),
        ({"type": "delay", "status": 503}, False),
        ({"type": "reset", "body": {}}, False),
        ({"type": "timeout"}, False),
        ({"type": "timeout", "ms": 10}, True),
        ({"type": "delay"}, False),
        ({"type": "delay", "ms": 5}, True),
        ({"type": "delay", "distribution": "uniform", "min_ms": 1}, False),
        ({"type": "delay", "distribution": "uniform", "min_ms": 1, "max_ms": 2}, True),
        ({"type": "delay", "distribution": "lognormal", "median_ms": 1, "sigma": 1}, False),
        ({"type": "delay", "distribution": "lognormal", "median_ms": 1, "sigma": 1, "cap_ms": 9}, True),
        ({"type": "reset"}, True),
    ],
)
def test_fault_actions_name_the_fields_each_type_takes(action, valid):
    document = _document("sandbox-admin")
    rule = document["components"]["schemas"]["FaultRuleInput"]
    assert _validator(document, rule).is_valid({"action": action}) is valid


@pytest.mark.parametrize("value,valid", [(INT64_MAX, True), (INT64_MAX + 1, False), (-(2**63) - 1, False)])
def test_admin_integers_state_their_64_bit_bounds(value, valid):
    document = _document("sandbox-admin")
    rule = document["components"]["schemas"]["FaultRuleInput"]
    check = _validator(document, rule)
    for body in (
        {"action": {"type": "reset"}, "match": {"account_id": value}},
        {"action": {"type": "reset"}, "schedule": {"seed": value}},
    ):
        assert check.is_valid(body) is valid
    bankslips = _document("sandbox-admin-bankslips")
    assert _validator(bankslips, _parameter(bankslips, "/bankslips", "account_id")).is_valid(value) is valid


def test_the_login_request_is_a_choice_of_typed_objects():
    document = _document("passport")
    schemas = document["components"]["schemas"]
    branches = [schemas[ref["$ref"].rsplit("/", 1)[-1]] for ref in schemas["ServerLoginRequest"]["anyOf"]]
    for branch in branches:
        assert branch["type"] == "object" and branch["properties"] and "server_key" in branch["required"]
    check = _validator(document, schemas["ServerLoginRequest"])
    assert check.is_valid({"server_key": "k", "server_secret": "s"})
    assert check.is_valid({"server_key": "k", "secret_key": "s"})
    assert not check.is_valid({"server_key": "k"})
