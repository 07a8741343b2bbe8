"""Fault injection seen from a real client over a real socket (gunicorn)."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

pytestmark = pytest.mark.slow

URL = "/banking-auth/v1/credentials"
BODY = {"key": "k", "provider": "CELCOIN", "type": "PIX"}


def _tenant(server) -> tuple:
    tenant = server.admin.create_tenant()
    account = server.admin.create_account(tenant.tenant_id)
    token = server.admin.issue_token(tenant.tenant_id, account["account_id"])["token"]
    return server, {"Authorization": f"Bearer {token}"}, tenant.tenant_id


@pytest.fixture
def served(served_sandbox):
    """The shared served sandbox, reset, with a tenant and an account token."""
    return _tenant(served_sandbox)


@pytest.fixture
def served_alone(serve):
    """A served sandbox of the test's own (its log is read, or a request is left held)."""
    return _tenant(serve())


def _fault(server, **rule) -> dict:
    return dict(server.admin.add_fault(rule))


def _raw_post(base: str, headers: dict) -> tuple[str, bytes]:
    """Send one request over a raw socket; say how the connection ended."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    import json

    try:
        conn.request("POST", URL, body=json.dumps(BODY), headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        return f"status {response.status}", response.read()
    except http.client.RemoteDisconnected:  # a subclass of ConnectionResetError: test it first
        return "closed without response", b""
    except ConnectionResetError:
        return "reset", b""
    except http.client.BadStatusLine as error:
        return "not http", str(error).encode()
    finally:
        conn.close()


def test_reset_closes_the_connection_with_a_tcp_reset(served_alone):
    server, headers, _ = served_alone
    _fault(server, action={"type": "reset"}, schedule={"times": 1})
    assert _raw_post(server.url, headers)[0] == "reset"
    assert _raw_post(server.url, headers)[0] == "status 201"
    assert "Socket error processing request" not in server.stop()


def test_empty_closes_the_connection_without_a_byte(served):
    server, headers, _ = served
    _fault(server, action={"type": "empty"}, schedule={"times": 1})
    assert _raw_post(server.url, headers)[0] == "closed without response"
    assert _raw_post(server.url, headers)[0] == "status 201"


def test_malformed_sends_bytes_that_are_not_http(served):
    server, headers, _ = served
    _fault(server, action={"type": "malformed"}, schedule={"times": 1})
    outcome, detail = _raw_post(server.url, headers)
    assert outcome == "not http" and b"2OO" in detail
    assert _raw_post(server.url, headers)[0] == "status 201"


def test_reset_after_commit_keeps_the_change(served):
    server, headers, tenant_id = served
    _fault(server, action={"type": "reset"}, phase="after", schedule={"times": 1})
    assert _raw_post(server.url, headers)[0] == "reset"
    assert [c["version"] for c in server.admin.credentials(tenant_id)] == [1]


def test_timeout_holds_then_answers_504_over_http(served):
    server, headers, _ = served
    _fault(server, action={"type": "timeout", "ms": 400}, schedule={"times": 1})
    started = time.perf_counter()
    response = requests.post(server.url + URL, json=BODY, headers=headers, timeout=10)
    assert response.status_code == 504 and response.json()["code"] == "EBAA0003"
    assert time.perf_counter() - started >= 0.4


def test_a_client_timeout_shorter_than_the_hold_times_out(served):
    server, headers, _ = served
    _fault(server, action={"type": "timeout", "ms": 2000}, schedule={"times": 1})
    with pytest.raises(requests.ReadTimeout):
        requests.post(server.url + URL, json=BODY, headers=headers, timeout=0.5)
    # The server still answers the held request (504) once the hold is over.
    assert _journaled(server, lambda entry: entry["path"] == URL and entry["status"] == 504)


def _journaled(server, wanted) -> dict | None:
    """The first journal entry `wanted` accepts, waiting until one is written (or a minute passes)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        entries = server.admin.journal(limit=100)
        found = next((entry for entry in entries if wanted(entry)), None)
        if found is not None:
            return found
        time.sleep(0.1)
    return None


def test_a_long_delay_does_not_hold_up_other_requests(serve):
    """Other requests are answered while one is held: all of them before it. One worker, so they
    all need the turn the held request gives up while it waits (simulator/turns.py). (How little
    they are slowed is a figure to measure, not something to assert: a loaded machine would fail it.)"""
    server, headers, _ = _tenant(serve(workers=1))
    rule = _fault(
        server,
        match={"operation_id": "post-credentials"},
        action={"type": "delay", "ms": 60_000},
        schedule={"times": 1},
    )
    answered: list[str] = []

    def delayed() -> None:
        try:
            requests.post(server.url + URL, json=BODY, headers=headers, timeout=120)
        except requests.RequestException:
            pass  # the server is stopped at teardown while this request is still held
        answered.append("delayed")

    threading.Thread(target=delayed, daemon=True).start()
    deadline = time.monotonic() + 60  # until the rule has fired: the delayed request is being held
    while server.admin.fault(rule["id"])["fired"] == 0:
        assert time.monotonic() < deadline, "the delayed request never reached the server"
        time.sleep(0.05)
    session = requests.Session()
    for _ in range(20):
        assert session.post(server.url + URL, json=BODY, headers=headers, timeout=30).status_code == 201
        answered.append("other")
    assert answered == ["other"] * 20


def test_same_seed_gives_the_same_fault_sequence_over_http(served):
    server, headers, _ = served
    session = requests.Session()

    def run() -> list[int]:
        server.admin.clear_faults()
        _fault(server, action={"type": "status", "status": 504}, schedule={"probability": 0.3, "seed": 99})
        return [session.post(server.url + URL, json=BODY, headers=headers, timeout=10).status_code for _ in range(300)]

    first, second, third = run(), run(), run()
    assert first == second == third
    assert 60 < first.count(504) < 120


def test_faults_file_is_loaded_at_start_up(serve, tmp_path):
    rules = tmp_path / "faults.yaml"
    rules.write_text(
        "rules:\n  - match: {operation_id: post-credentials}\n"
        "    action: {type: status, status: 502}\n    schedule: {nth: 2, times: 1}\n"
    )
    server = serve(env={"PISMO_SANDBOX_FAULTS_FILE": str(rules)})
    listed = server.admin.faults()
    assert [(r["action"]["status"], r["schedule"]["nth"]) for r in listed] == [(502, 2)]
    assert "1 fault rule(s) loaded" in server.stop()


def test_a_bad_faults_file_stops_the_server_with_a_clear_error(tmp_path):
    import subprocess
    import sys

    rules = tmp_path / "faults.yaml"
    rules.write_text("- action: {type: status}\n")
    out = subprocess.run(
        [sys.executable, "-m", "pismo_sandbox", "serve", "--db", str(tmp_path / "x.db"), "--faults", str(rules)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode != 0
    assert "rule 1" in out.stderr and "status" in out.stderr


def test_concurrent_requests_count_exactly_across_workers(served):
    server, headers, _ = served
    _fault(server, action={"type": "status", "status": 502}, schedule={"nth": 11, "times": 25})

    def call(_):
        return requests.post(server.url + URL, json=BODY, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(call, range(100)))
    assert statuses.count(502) == 25 and statuses.count(201) == 75
