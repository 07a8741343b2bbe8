"""What a worker keeps from the database between requests (accounts, the tenant's bank-slip
provider, the charge scenarios: change_counters.ReferenceCache) is never served stale: a change
made through one gunicorn worker is seen by every worker at the next request. Each check reads
through every worker (each keeps what it read), changes it, then reads through every worker
again: the requests go over connections known to be held by each worker (the server side of a
connection is found in /proc, Linux)."""

from __future__ import annotations

import http.client
import json
import os
import pathlib
import time

import pytest
import requests

from bench.servers import children
from tests.deliveries.flow import SCHEME

pytestmark = pytest.mark.slow


def _workers(served) -> list[int]:
    """The served sandbox's two workers (waiting for the second while it starts)."""
    deadline = time.monotonic() + 30
    while len(pids := children(served.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return pids


def _holder(client_port: int, server_port: int, workers: list[int]) -> int | None:
    """The worker holding the server side of the connection from ``client_port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in pathlib.Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == server_port and int(remote, 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in workers:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue
    return None


def _every_worker(served, method: str, path: str, headers: dict, body: dict | None = None) -> list[tuple[int, dict]]:
    """The request sent once through each worker (over a connection just made and found to be
    held by it): each answer's status and JSON body."""
    workers = _workers(served)
    assert len(workers) == 2, workers
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
        connection.request("GET", "/_sandbox/health")
        connection.getresponse().read()
        pid = _holder(connection.sock.getsockname()[1], served.port, workers)
        if pid is not None and pid not in held:
            held[pid] = connection
        else:
            connection.close()
        if len(held) == len(workers):
            break
    assert len(held) == len(workers), "no connection reached every worker"
    answers = []
    for connection in held.values():
        data = json.dumps(body) if body is not None else None
        connection.request(method, path, body=data, headers={**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.status, json.loads(response.read() or b"{}")))
        connection.close()
    return answers


def test_an_account_blocked_through_one_worker_is_blocked_in_every_worker(served_sandbox):
    account = served_sandbox.admin.new_account()
    path = f"/intl-bankaccounts/v2/accounts/{account.account_id}/bank-accounts"
    read = _every_worker(served_sandbox, "GET", f"{path}/BRAZIL", account.headers)
    assert [status for status, _ in read] == [404, 404]  # the account was read: it has no bank account
    served_sandbox.admin.set_account_status(account.tenant_id, account.account_id, "BLOCKED")
    answers = _every_worker(served_sandbox, "POST", f"{path}/brazil", account.headers, {"scheme": SCHEME})
    assert [(status, answer["code"]) for status, answer in answers] == [(403, "EIBA0023")] * 2


def test_a_provider_set_through_one_worker_is_every_workers_provider(served_sandbox):
    admin = served_sandbox.admin
    account = admin.new_account()
    slip = admin.generate_boleto("bank", 120.0)
    validate = (
        "POST",
        "/integrated-payments/v1/bankslips/validate",
        account.headers,
        {"type": 1, "bar_code": slip["bar_code"]},
    )
    answers = _every_worker(served_sandbox, *validate)
    assert [(status, answer["code"]) for status, answer in answers] == [(400, "EIP0023")] * 2  # no provider
    credential = requests.post(
        f"{served_sandbox.url}/banking-auth/v1/credentials",
        json={"key": "celcoin-key", "provider": "CELCOIN", "type": "BAAS"},
        headers=account.headers,
        timeout=30,
    )
    assert credential.status_code == 201, credential.text
    answers = _every_worker(served_sandbox, *validate)
    assert [status for status, _ in answers] == [200, 200]
    assert all(answer.get("external_authorization") for _, answer in answers)  # Celcoin returns one
    admin.set_bankslip_provider(account.tenant_id, "BTG")
    answers = _every_worker(served_sandbox, *validate)
    assert [status for status, _ in answers] == [200, 200]
    assert not any(answer.get("external_authorization") for _, answer in answers)  # BTG does not


def test_charges_given_to_a_new_slip_through_one_worker_are_seen_by_every_worker(served_sandbox):
    admin = served_sandbox.admin
    account = admin.new_account()
    admin.set_bankslip_provider(account.tenant_id, "BTG")
    path = "/integrated-payments/v1/bankslips/validate"
    plain = admin.generate_boleto("bank", 100.0)
    answers = _every_worker(served_sandbox, "POST", path, account.headers, {"type": 1, "bar_code": plain["bar_code"]})
    assert [(status, answer.get("fine")) for status, answer in answers] == [(200, None)] * 2
    charged = admin.generate_boleto("bank", 100.0, fine=2.5)
    answers = _every_worker(served_sandbox, "POST", path, account.headers, {"type": 1, "bar_code": charged["bar_code"]})
    assert [(status, answer.get("fine"), answer.get("amount")) for status, answer in answers] == [(200, 2.5, 102.5)] * 2
