"""The lost response, the case idempotency keys exist for: a pay whose answer is replaced by a
504 after the payment was committed, then a retry with the same key, gets the original answer
and never a second payment. 1,000 times: four runs of 250 in a row, each on a fresh sandbox, so
the test processes can share them."""

from __future__ import annotations

import pytest

from tests.http._bankslips import BankSlips

ROUNDS = 250
RUNS = 4

pytestmark = pytest.mark.long  # `make test` runs it; `make test-fast` leaves it out


@pytest.fixture
def slips(client, sandbox):
    return BankSlips(client, sandbox)


@pytest.mark.parametrize("run", range(RUNS))
def test_lost_pay_response_then_retry_with_the_same_key_pays_once_1000_times(client, sandbox, tenant, slips, run):
    slips.use_provider(tenant, "ITAU")
    authorizations = set()
    for n in range(ROUNDS):
        slip = slips.boleto(amount=10 + n % 500)
        body = slips.pay_body(tenant, slip, slips.validated(tenant, slip))
        rule = client.post(
            "/_sandbox/faults",
            json={
                "match": {"operation_id": "post-integrated-payments-api-v1-bankslips-pay"},
                "action": {"type": "status", "status": 504},
                "phase": "after",
                "schedule": {"times": 1},
            },
        ).json
        lost = slips.pay(tenant, body, key=f"lost-{run}-{n}")
        assert (lost.status_code, lost.json["code"], lost.headers["x-sandbox-fault"]) == (504, "EIP0002", rule["id"])
        retry = slips.pay(tenant, body, key=f"lost-{run}-{n}")
        assert retry.status_code == 202, retry.json
        assert retry.headers.get("x-idempotency-replayed") == "true"
        authorizations.add(retry.json["authorization_id"])
    payments = client.get(
        "/_sandbox/bankslips", query_string={"tenant_id": tenant.tenant_id, "limit": ROUNDS + 1}
    ).json["items"]
    assert len(payments) == ROUNDS
    assert {p["authorization_id"] for p in payments} == authorizations
    created = sandbox.events(tenant_id=tenant.tenant_id, type="authorization-event", limit=ROUNDS + 1)
    assert len(created) == ROUNDS
