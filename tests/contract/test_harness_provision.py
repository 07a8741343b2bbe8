"""`contract --base-url` against a served sandbox: --provision makes what the run needs through
the target's admin API (no hand-made tenant, account or credentials), and the target's fault
rules stay as they were unless --clear-faults says otherwise."""

from __future__ import annotations

import subprocess

import pytest

from tests.contract.cli import run_contract

from pismo_sandbox import Sandbox

pytestmark = pytest.mark.slow

# A rule that never fires during the run (no such tenant) but is there to be kept or cleared.
IDLE_RULE = {
    "match": {"tenant_id": "TN-not-in-this-run"},
    "action": {"type": "status", "status": 503},
    "description": "the target's own rule",
}


def _contract(url: str, *args: str) -> subprocess.CompletedProcess:
    return run_contract("--base-url", url, "--spec", "banking-auth", "--examples", "2", *args)


def test_provision_creates_tenant_and_account_through_the_admin_api_and_keeps_fault_rules(served_sandbox):
    server = served_sandbox
    rule = server.admin.add_fault(IDLE_RULE)
    completed = _contract(server.url, "--provision")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [tenant] = server.admin.tenants()
    accounts = server.admin.accounts(tenant["tenant_id"])
    assert [a["status"] for a in accounts] == ["NORMAL"]
    assert f"tenant {tenant['tenant_id']}, account {accounts[0]['account_id']}" in completed.stderr
    credentials = server.admin.credentials(tenant["tenant_id"])
    assert credentials  # the run registered provider credentials as the provisioned account
    assert [r["id"] for r in server.admin.faults()] == [rule["id"]]
    assert f"the target has 1 fault rule(s) ({rule['id']})" in completed.stdout


def test_clear_faults_removes_the_targets_rules_first(served_sandbox):
    server = served_sandbox
    server.admin.add_fault(IDLE_RULE)
    completed = _contract(server.url, "--provision", "--clear-faults")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert server.admin.faults() == []
    assert "fault rule(s)" not in completed.stdout


def test_a_base_url_without_credentials_or_provision_says_both_ways(served_sandbox):
    server = served_sandbox
    completed = _contract(server.url)
    assert completed.returncode == 2
    assert "needs --token or --server-key/--server-secret" in completed.stdout
    assert "--provision" in completed.stdout
    assert server.admin.tenants() == []


@pytest.fixture
def guarded():
    """A served sandbox (through the launcher) whose admin API requires the admin token "adm"."""
    with Sandbox(settings={"admin_token": "adm"}, inherit_env=False) as sandbox:
        yield sandbox


def test_provision_on_a_sandbox_with_an_admin_token_needs_that_token(guarded):
    refused = _contract(guarded.url, "--provision")
    assert refused.returncode == 2 and "give --admin-token" in refused.stdout
    accepted = _contract(guarded.url, "--provision", "--admin-token", "adm")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert len(guarded.admin.tenants()) == 1
