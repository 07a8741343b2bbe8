"""Served safety: Host and Origin checks behind gunicorn, no shared gunicorn control socket, and
writers that answer 503/504 instead of hanging when another process holds the writer lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests

pytestmark = pytest.mark.slow

HOLD_THE_WRITER_LOCK = textwrap.dedent("""
    import sys
    from pismo_sandbox.store import Store
    store = Store(sys.argv[1])
    with store.transaction():
        print("held", flush=True)
        sys.stdin.read()  # until the test lets go
""")


def _tenant_and_token(base: str) -> tuple[str, str]:
    tenant = requests.post(f"{base}/_sandbox/tenants", json={}, timeout=10).json()
    account = requests.post(f"{base}/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={}, timeout=10).json()[
        "account_id"
    ]
    token = requests.post(
        f"{base}/_sandbox/tokens", json={"tenant_id": tenant["tenant_id"], "account_id": account}, timeout=10
    ).json()["token"]
    return tenant["tenant_id"], token


def test_a_served_sandbox_refuses_foreign_hosts_and_origins_and_non_json_posts(served_sandbox):
    server = served_sandbox
    tenant_id, _ = _tenant_and_token(server.url)
    rebound = requests.get(f"{server.url}/_sandbox/tenants", headers={"Host": "evil.example:8080"}, timeout=10)
    assert rebound.status_code == 403 and rebound.json()["code"] == "GATEWAY_403"
    cross_site = requests.post(
        f"{server.url}/_sandbox/reset",
        data="x",
        timeout=10,
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    assert cross_site.status_code == 403
    no_cors = requests.post(f"{server.url}/_sandbox/reset", timeout=10)  # fetch(..., {mode: "no-cors"})
    assert no_cors.status_code == 400
    tenants = requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"]
    assert [t["tenant_id"] for t in tenants] == [tenant_id]
    rows = requests.get(f"{server.url}/_sandbox/journal", params={"limit": 10}, timeout=10).json()["items"]
    refused = [(r["status"], r["code"]) for r in rows if r["verdict"] == "request_rejected"]
    assert refused == [(400, "SANDBOX_INVALID_REQUEST"), (403, "GATEWAY_403"), (403, "GATEWAY_403")]
    assert (
        requests.post(
            f"{server.url}/_sandbox/reset", timeout=10, headers={"Content-Type": "application/json"}
        ).status_code
        == 200
    )


def test_sandboxes_share_no_gunicorn_control_socket(serve, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": ""}
    first = serve(db_path=str(tmp_path / "a.db"), workers=1, env=env)
    second = serve(db_path=str(tmp_path / "b.db"), workers=1, env=env)
    for server in (first, second):
        assert requests.get(f"{server.url}/_sandbox/health", timeout=10).status_code == 200
    assert not (home / ".gunicorn").exists()
    assert "control socket" not in first.stop().lower()


def test_a_writer_that_cannot_get_the_lock_answers_503_or_504_and_the_stall_is_logged(serve, tmp_path):
    db = str(tmp_path / "locked.db")
    server = serve(db_path=db, workers=2, env={"PISMO_SANDBOX_WRITE_LOCK_TIMEOUT_SECONDS": "1"})
    _, token = _tenant_and_token(server.url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_WRITER_LOCK, db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        admin = requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=30)
        assert admin.status_code == 503
        assert admin.json()["code"] == "GATEWAY_503" and admin.headers["Retry-After"] == "1"
        # Create provider credential documents 504 (EBAA0003), not 503: its documented answer.
        pismo = requests.post(
            f"{server.url}/banking-auth/v1/credentials",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
            json={"key": "k", "provider": "CELCOIN", "type": "PIX"},
        )
        assert pismo.status_code == 504 and pismo.json()["code"] == "EBAA0003"
        assert requests.get(f"{server.url}/_sandbox/health", timeout=10).status_code == 200  # reads go on
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert requests.post(f"{server.url}/_sandbox/tenants", json={}, timeout=30).status_code == 201
    tenants = requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"]
    assert len(tenants) == 2  # the refused create wrote nothing
    rows = requests.get(f"{server.url}/_sandbox/journal", params={"limit": 10}, timeout=10).json()["items"]
    assert {(r["path"], r["status"]) for r in rows} >= {
        ("/_sandbox/tenants", 503),
        ("/banking-auth/v1/credentials", 504),
    }
    log = server.stop()
    assert f"held by process {holder.pid}, which has stalled" in log
