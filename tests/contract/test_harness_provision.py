"""`contract --base-url` against a served sandbox: --provision makes what the run needs through
the target's admin API (no hand-made tenant, account or credentials), and the target's fault
rules stay as they were unless --clear-faults says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

pytestmark = pytest.mark.slow

# A rule that never fires during the run (no such tenant) but is there to be kept or cleared.
IDLE_RULE = {"match": {"tenant_id": "TN-not-in-this-run"}, "action": {"type": "status", "status": 503},
             "description": "the target's own rule"}


def _contract(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PISMO_")}
    return subprocess.run([sys.executable, "-m", "pismo_sandbox", "contract", "--base-url", url,
                           "--spec", "banking-auth", "--examples", "2", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def _rules(url: str) -> list[dict]:
    return requests.get(f"{url}/_sandbox/faults", timeout=10).json()["items"]


def test_provision_creates_tenant_and_account_through_the_admin_api_and_keeps_fault_rules(serve):
    server = serve(workers=1)
    rule = requests.post(f"{server.url}/_sandbox/faults", json=IDLE_RULE, timeout=10).json()
    completed = _contract(server.url, "--provision")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [tenant] = requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"]
    accounts = requests.get(f"{server.url}/_sandbox/tenants/{tenant['tenant_id']}/accounts", timeout=10).json()["items"]
    assert [a["status"] for a in accounts] == ["NORMAL"]
    assert f"tenant {tenant['tenant_id']}, account {accounts[0]['account_id']}" in completed.stderr
    credentials = requests.get(f"{server.url}/_sandbox/credentials",
                               params={"tenant_id": tenant["tenant_id"]}, timeout=10).json()["items"]
    assert credentials  # the run registered provider credentials as the provisioned account
    assert [r["id"] for r in _rules(server.url)] == [rule["id"]]
    assert f"the target has 1 fault rule(s) ({rule['id']})" in completed.stdout


def test_clear_faults_removes_the_targets_rules_first(serve):
    server = serve(workers=1)
    requests.post(f"{server.url}/_sandbox/faults", json=IDLE_RULE, timeout=10)
    completed = _contract(server.url, "--provision", "--clear-faults")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert _rules(server.url) == []
    assert "fault rule(s)" not in completed.stdout


def test_a_base_url_without_credentials_or_provision_says_both_ways(serve):
    server = serve(workers=1)
    completed = _contract(server.url)
    assert completed.returncode == 2
    assert "needs --token or --server-key/--server-secret" in completed.stdout
    assert "--provision" in completed.stdout
    assert requests.get(f"{server.url}/_sandbox/tenants", timeout=10).json()["items"] == []


@pytest.fixture
def guarded(tmp_path):
    """A served sandbox whose admin API requires the admin token "adm" (the shared fixture's
    health probe sends none)."""
    from pismo_sandbox.launcher import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PISMO_")}, "PISMO_SANDBOX_ADMIN_TOKEN": "adm"}
    process = subprocess.Popen([sys.executable, "-m", "pismo_sandbox", "serve", "--port", str(port), "--db",
                                str(tmp_path / "guarded.db"), "--workers", "1"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if requests.get(f"{url}/_sandbox/health", headers={"Authorization": "Bearer adm"},
                                timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_provision_on_a_sandbox_with_an_admin_token_needs_that_token(guarded):
    refused = _contract(guarded, "--provision")
    assert refused.returncode == 2 and "give --admin-token" in refused.stdout
    accepted = _contract(guarded, "--provision", "--admin-token", "adm")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert len(requests.get(f"{guarded}/_sandbox/tenants", headers={"Authorization": "Bearer adm"},
                            timeout=10).json()["items"]) == 1
