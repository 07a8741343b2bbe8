"""Create provider credential under real concurrency: updates of one provider slot racing through
two gunicorn workers each take a version of their own (the write is one statement), and the
stored proxy value is the one of the version stored."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pismo_sandbox.domains.credentials.providers import proxy_value

pytestmark = pytest.mark.slow

RACERS = 40


def test_forty_concurrent_updates_of_one_credential_give_versions_1_to_40(served_sandbox):
    server = served_sandbox
    account = server.admin.new_account()
    url = f"{server.url}/banking-auth/v1/credentials"
    start = threading.Barrier(RACERS)

    def upsert(n: int) -> int:
        body = {"key": f"key-{n}", "provider": "CELCOIN", "type": "PIX", "provider_data": {"client_id": f"c-{n}"}}
        with requests.Session() as session:  # one connection per racer
            start.wait(timeout=30)
            return session.post(url, json=body, headers=account.headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(upsert, range(RACERS)))

    assert statuses == [201] * RACERS
    stored = requests.get(f"{server.url}/_sandbox/credentials", params={"tenant_id": account.tenant_id}, timeout=10)
    [credential] = stored.json()["items"]
    assert credential["version"] == RACERS
    assert credential["proxy_value"] == proxy_value(account.tenant_id, "CELCOIN", "PIX", RACERS)
    assert credential["client_id"] in {f"c-{n}" for n in range(RACERS)}
