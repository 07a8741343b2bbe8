"""A user's test suite against pismo-sandbox, through its pytest plugin: after
`pip install pismo-sandbox pytest`, run `pytest test_with_pismo_sandbox.py` (no conftest needed).

pismo_sandbox  the sandbox (started once per session): .base_url, .admin (the admin API)
pismo_account  a fresh tenant and NORMAL account per test: .account_id, .token, .headers
pismo_faults   fault rules for one test (removed after it)
"""

import uuid
from typing import Any

import pytest
import requests

from pismo_sandbox import AccountSession, Sandbox
from pismo_sandbox.pytest_plugin import FaultRules


def test_register_a_brazilian_bank_account(pismo_sandbox: Sandbox, pismo_account: AccountSession) -> None:
    url = f"{pismo_sandbox.base_url}/intl-bankaccounts/v2/accounts/{pismo_account.account_id}/bank-accounts/brazil"
    body = {
        "scheme": {
            "bank": "60701190",
            "branch": "186",
            "account_number": "1773065291",
            "supplementary_data": {"account_type": "CACC"},
        }
    }

    created = requests.post(url, json=body, headers=pismo_account.headers, timeout=10)

    assert created.status_code == 201, created.text
    assert created.json()["scheme"]["branch"] == "0186"
    events = pismo_sandbox.admin.events(tenant_id=pismo_account.tenant_id, domain="intl-bankaccounts")
    assert [e["event_type"] for e in events] == ["intl_bankaccount_register-1"]


def test_pay_a_boleto_and_see_it_settle(pismo_sandbox: Sandbox, pismo_account: AccountSession) -> None:
    admin = pismo_sandbox.admin
    admin.set_bankslip_provider(pismo_account.tenant_id, "CELCOIN")
    boleto = admin.generate_boleto(amount=150.25)
    api = f"{pismo_sandbox.base_url}/integrated-payments/v1/bankslips"

    validated = requests.post(
        f"{api}/validate",
        headers=pismo_account.headers,
        timeout=10,
        json={"type": boleto["type"], "bar_code": boleto["bar_code"]},
    )
    assert validated.status_code == 200, validated.text
    paid = requests.post(
        f"{api}/pay",
        timeout=10,
        headers={**pismo_account.headers, "x-idempotency-key": str(uuid.uuid4())},
        json={
            "account_id": pismo_account.account_id,
            "amount": 150.25,
            "external_authorization": validated.json()["external_authorization"],
            "bankslip": {"type": boleto["type"], "bar_code": boleto["bar_code"]},
        },
    )
    assert paid.status_code == 202, paid.text

    admin.advance_clock(days=7)  # processing, then clearing on the next business day
    [payment] = admin.payments(pismo_account.tenant_id)
    assert payment["status"] == "SETTLED"


def test_a_lost_answer_is_replayed_under_the_same_idempotency_key(
    pismo_sandbox: Sandbox, pismo_account: AccountSession, pismo_faults: FaultRules
) -> None:
    admin = pismo_sandbox.admin
    admin.set_bankslip_provider(pismo_account.tenant_id, "ITAU")
    boleto = admin.generate_boleto(amount=80.00)
    pismo_faults.add(
        match={"operation_id": "post-integrated-payments-api-v1-bankslips-pay"},
        action={"type": "status", "status": 504},
        phase="after",
        schedule={"times": 1},
        account=pismo_account,
    )
    api = f"{pismo_sandbox.base_url}/integrated-payments/v1/bankslips"
    slip = {"type": boleto["type"], "bar_code": boleto["bar_code"]}
    validated = requests.post(f"{api}/validate", json=slip, headers=pismo_account.headers, timeout=10).json()
    pay: dict[str, Any] = {
        "json": {
            "account_id": pismo_account.account_id,
            "amount": 80.00,
            "bankslip": slip,
            "external_authorization": validated["external_authorization"],
        },
        "headers": {**pismo_account.headers, "x-idempotency-key": str(uuid.uuid4())},
        "timeout": 10,
    }

    lost = requests.post(f"{api}/pay", **pay)
    retried = requests.post(f"{api}/pay", **pay)

    assert (lost.status_code, retried.status_code) == (504, 202)
    assert retried.headers["x-idempotency-replayed"] == "true"
    assert len(admin.payments(pismo_account.tenant_id)) == 1


@pytest.mark.pismo_faults({"match": {"operation_id": "post-credentials"}, "action": {"type": "status", "status": 502}})
def test_a_marker_installs_fault_rules_for_one_test(pismo_sandbox: Sandbox, pismo_account: AccountSession) -> None:
    answer = requests.post(
        f"{pismo_sandbox.base_url}/banking-auth/v1/credentials",
        headers=pismo_account.headers,
        json={"key": "k", "provider": "CELCOIN", "type": "BAAS"},
        timeout=10,
    )

    assert answer.status_code == 502
    assert pismo_sandbox.admin.credentials(pismo_account.tenant_id) == []
