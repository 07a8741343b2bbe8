"""The simulator served the way `make run` serves it: gunicorn workers on a real socket."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.slow


def _login(base: str, tenant: dict, account_id: int | None = None) -> str:
    body = {"server_key": tenant["server_key"], "server_secret": tenant["server_secret"]}
    if account_id is not None:
        body["account_id"] = account_id
    response = requests.post(f"{base}/passport/v2/s2s/access-token", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_quick_start_flow_over_real_http(serve):
    server = serve()
    base = server.url
    tenant = requests.post(f"{base}/_sandbox/tenants", json={}, timeout=10).json()
    account = requests.post(f"{base}/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={}, timeout=10).json()
    token = _login(base, tenant, account["account_id"])
    response = requests.post(
        f"{base}/banking-auth/v1/credentials",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={"key": "celcoin-key", "provider": "CELCOIN", "type": "BAAS"},
    )
    assert response.status_code == 201
    assert response.headers["x-cid"]
    log = server.stop()
    assert "listening on " + base in log
    assert "pismo_sandbox.access: POST /banking-auth/v1/credentials 201" in log
    assert "celcoin-key" not in log and token not in log


def test_access_lines_reach_the_log_while_the_server_runs_whole_and_in_answer_order(serve):
    server = serve(workers=1)
    base = server.url
    for n in range(5):  # answered one after another by the one worker
        requests.post(f"{base}/_sandbox/tenants", json={}, headers={"x-cid": f"in-order-{n}"}, timeout=10)
    deadline = time.monotonic() + 10
    while server.output().count("cid=in-order-") < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [line for line in server.output().splitlines() if "cid=in-order-" in line]
    assert [line.split("cid=")[1].split()[0] for line in lines] == [f"in-order-{n}" for n in range(5)]
    assert all(" INFO pismo_sandbox.access: POST /_sandbox/tenants 201 " in line for line in lines)


def test_state_survives_a_restart(serve, tmp_path):
    db = str(tmp_path / "persist.db")
    first = serve(db_path=db)
    tenant = requests.post(f"{first.url}/_sandbox/tenants", json={}, timeout=10).json()
    account = requests.post(f"{first.url}/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={}, timeout=10).json()
    token = _login(first.url, tenant, account["account_id"])
    requests.post(
        f"{first.url}/banking-auth/v1/credentials",
        headers={"Authorization": f"Bearer {token}"},
        json={"key": "k", "provider": "JDPI", "type": "PIX"},
        timeout=10,
    )
    first.stop()

    second = serve(db_path=db)
    # The same server secret still logs in, and a token issued before the restart still works.
    assert _login(second.url, tenant, account["account_id"])
    response = requests.post(
        f"{second.url}/banking-auth/v1/credentials",
        headers={"Authorization": f"Bearer {token}"},
        json={"key": "k2", "provider": "JDPI", "type": "PIX"},
        timeout=10,
    )
    assert response.status_code == 201
    stored = requests.get(f"{second.url}/_sandbox/credentials", params={"tenant_id": tenant["tenant_id"]}, timeout=10)
    assert [(c["provider"], c["version"]) for c in stored.json()["items"]] == [("JDPI", 2)]


def test_two_workers_writing_concurrently_lose_nothing(served_sandbox):
    server = served_sandbox
    assert server.workers == 2
    base = server.url
    tenants = [requests.post(f"{base}/_sandbox/tenants", json={}, timeout=10).json()["tenant_id"] for _ in range(4)]

    def create(i: int) -> int:
        return requests.post(f"{base}/_sandbox/tenants/{tenants[i % 4]}/accounts", json={}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(create, range(200)))
    assert statuses == [201] * 200
    counts = [len(requests.get(f"{base}/_sandbox/tenants/{t}/accounts", timeout=10).json()["items"]) for t in tenants]
    assert counts == [50, 50, 50, 50]


def test_chunked_body_over_the_limit_is_refused_with_413(served_sandbox):
    server = served_sandbox

    def chunks():
        yield b'{"server_key": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'", "server_secret": "y"}'

    response = requests.post(
        f"{server.url}/passport/v2/s2s/access-token",
        data=chunks(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_token_command_prints_a_token_the_server_accepts(served_sandbox):
    server = served_sandbox
    db = server.db_path
    tenant = requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=10).json()
    account = requests.post(f"{server.url}/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={}, timeout=10).json()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pismo_sandbox",
            "token",
            "--tenant",
            tenant["tenant_id"],
            "--account",
            str(account["account_id"]),
            "--db",
            db,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip()
    response = requests.post(
        f"{server.url}/banking-auth/v1/credentials",
        headers={"Authorization": f"Bearer {token}"},
        json={"key": "k", "provider": "CELCOIN", "type": "PIX"},
        timeout=10,
    )
    assert response.status_code == 201


def test_token_command_refuses_an_unknown_tenant(tmp_path):
    from pismo_sandbox.store import Store

    Store(str(tmp_path / "x.db")).migrate()
    out = subprocess.run(
        [sys.executable, "-m", "pismo_sandbox", "token", "--tenant", "TN-nope", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "TN-nope does not exist" in out.stderr


def test_in_memory_database_is_served(serve):
    server = serve(db_path=":memory:")
    assert requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=10).status_code == 201
    assert len(requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"]) == 1


def test_seeded_ids_are_served_by_one_worker_so_they_never_collide(serve):
    server = serve(workers=2, env={"PISMO_SANDBOX_ID_SEED": "5"})

    def create(_):
        return requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(60)))
    assert statuses == [201] * 60
    ids = [t["tenant_id"] for t in requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"]]
    assert len(set(ids)) == 60
    assert server.stop().count("Booting worker") == 1
