"""Pay bank slip under concurrency, against a real served sandbox (gunicorn, 2 workers):
200 requests over 20 idempotency keys create exactly 20 payments and 20 "Authorization
created" events, with no 5xx; every answer for a key is the same 202 or a 409 in flight.
A few slips carry the slow-provider trigger, so some keys are certainly in flight when their
duplicates arrive."""

from __future__ import annotations

import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.slow

KEYS, REQUESTS_PER_KEY, SLOW_KEYS = 20, 10, 4


def _setup(server) -> tuple[dict, dict, list[tuple[str, dict]]]:
    base, admin = server.url, server.admin
    session = admin.new_account()
    tenant, account, headers = {"tenant_id": session.tenant_id}, session.account_id, session.headers
    admin.set_bankslip_provider(session.tenant_id, "ITAU")
    work = []
    for n in range(KEYS):
        boleto = {"amount": 10 + n} | ({"trigger": "slow-provider"} if n < SLOW_KEYS else {})
        slip = admin.generate_boleto("bank", **boleto)
        validation = requests.post(
            f"{base}/integrated-payments/v1/bankslips/validate",
            json={"type": 1, "bar_code": slip["bar_code"]},
            headers=headers,
        )
        assert validation.status_code == 200, validation.text
        body = {
            "account_id": account,
            "amount": validation.json()["amount"],
            "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
            "external_authorization": validation.json()["external_authorization"],
        }
        work.append((f"concurrent-{n}", body))
    return tenant, headers, work


def test_200_concurrent_pays_over_20_keys_make_exactly_20_payments(served_sandbox):
    base = served_sandbox.url
    tenant, headers, work = _setup(served_sandbox)
    calls = [item for item in work for _ in range(REQUESTS_PER_KEY)]
    random.Random(7).shuffle(calls)

    def pay(call):
        key, body = call
        response = requests.post(
            f"{base}/integrated-payments/v1/bankslips/pay",
            json=body,
            headers={**headers, "x-idempotency-key": key},
            timeout=60,
        )
        return key, response.status_code, response.content, response.headers.get("x-idempotency-replayed")

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(pay, calls))

    assert [r for r in results if r[1] >= 500] == []
    by_key = defaultdict(list)
    for key, status, content, replayed in results:
        by_key[key].append((status, content, replayed))
    for key, answers in by_key.items():
        accepted = {content for status, content, _ in answers if status == 202}
        assert len(accepted) == 1, key  # one payment, one body, however often it is replayed
        for status, content, _ in answers:
            assert status == 202 or (status == 409 and b"IDEMPOTENCY_IN_FLIGHT" in content), (key, status, content)
        assert sum(1 for status, _, replayed in answers if status == 202 and replayed is None) == 1
    in_flight = [key for key, status, _, _ in results if status == 409]
    assert set(in_flight) & {f"concurrent-{n}" for n in range(SLOW_KEYS)}

    payments = served_sandbox.admin.payments(tenant["tenant_id"])
    assert len(payments) == KEYS
    assert sorted(p["idempotency_key"] for p in payments) == sorted(key for key, _ in work)
    events = served_sandbox.admin.events(tenant_id=tenant["tenant_id"], type="authorization-event", limit=1000)
    assert len(events) == KEYS

    # Afterwards every key replays its one payment.
    for key, body in work:
        _, status, content, replayed = pay((key, body))
        assert status == 202 and replayed == "true"
        assert {content} == {c for s, c, _ in by_key[key] if s == 202}
