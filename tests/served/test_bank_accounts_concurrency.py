"""One Brazilian bank account per Pismo account, under real concurrency: identical registrations
racing through two gunicorn workers give exactly one 201, the rest 409 EIBA0028, never a 5xx."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.slow

RACERS = 50


def test_fifty_concurrent_identical_registrations_give_one_201_and_49_409s(served_sandbox):
    server = served_sandbox
    base = server.url
    account = server.admin.new_account()  # a fresh tenant, its account, logged in
    account_id, headers = account.account_id, account.headers
    url = f"{base}/intl-bankaccounts/v2/accounts/{account_id}/bank-accounts/brazil"
    body = {
        "scheme": {
            "bank": "60701190",
            "branch": "186",
            "account_number": "1773065291",
            "supplementary_data": {"account_type": "CACC"},
        },
        "metadata": {"race": True},
    }
    start = threading.Barrier(RACERS)

    def register(_: int) -> tuple[int, str | None]:
        with requests.Session() as session:  # one connection per racer
            start.wait(timeout=30)
            response = session.post(url, json=body, headers=headers, timeout=30)
            return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = Counter(pool.map(register, range(RACERS)))

    assert outcomes == Counter({(201, None): 1, (409, "EIBA0028"): RACERS - 1}), (outcomes, server.stop())
    read = requests.get(
        f"{base}/intl-bankaccounts/v2/accounts/{account_id}/bank-accounts/BRAZIL", headers=headers, timeout=10
    )
    assert read.status_code == 200 and read.json()["metadata"] == {"race": True}
    events = server.admin.events(tenant_id=account.tenant_id, type="intl_bankaccount_register")
    assert len(events) == 1
    # The journal saw every racer, and none was answered 5xx.
    journal = server.admin.journal(limit=500)
    registrations = [e for e in journal if e["path"].endswith("/bank-accounts/brazil")]
    assert len(registrations) == RACERS
    assert all(e["status"] < 500 for e in registrations)
