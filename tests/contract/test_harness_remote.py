"""The harness against a base URL, as CI runs it against the real sandbox: a served simulator
(gunicorn, real sockets), credentials from the environment, login and the CLI's exit status."""

from __future__ import annotations


import pytest

from tests.contract.cli import run_contract

from pismo_sandbox.contracts import harness

pytestmark = pytest.mark.slow


@pytest.fixture
def served(served_sandbox):
    server = served_sandbox
    tenant = server.admin.create_tenant()
    account = server.admin.create_account(tenant.tenant_id)
    return server, {
        "PISMO_BASE_URL": server.url,
        "PISMO_SERVER_KEY": tenant.server_key,
        "PISMO_SERVER_SECRET": tenant.server_secret,
        "PISMO_ACCOUNT_ID": str(account["account_id"]),
    }


def test_a_base_url_is_tested_with_server_login_and_each_spec_keeps_its_base_path(served):
    server, env = served
    result = harness.run(
        base_url=server.url,
        specs=["banking-auth", "intl-bankaccounts"],
        credentials=harness.Credentials.from_env(env),
        examples=10,
        phases=("examples", "coverage", "fuzzing"),
    )
    assert result.ok, result.summary()
    assert result.logins == 1
    assert {g.document["servers"][0]["url"] for g in result.groups} == {server.url, f"{server.url}/intl-bankaccounts"}
    assert result.operations["POST /banking-auth/v1/credentials"].statuses[201] > 0


def test_a_remote_target_without_credentials_is_an_error_not_a_pass(served):
    server, _ = served
    result = harness.run(base_url=server.url, specs=["banking-auth"], examples=5)
    assert not result.ok and "needs --token" in result.errors[0]


def test_the_cli_reads_credentials_from_the_environment_and_writes_junit(served, tmp_path):
    _, env = served
    report = tmp_path / "contract.xml"
    completed = run_contract("--spec", "passport,banking-auth", "--examples", "5", "--junit", str(report), env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "OK: 0 failures" in completed.stdout
    assert "<testcase" in report.read_text()


def test_the_cli_exits_2_when_login_is_refused(served):
    _, env = served
    wrong = {**env, "PISMO_SERVER_SECRET": "not-the-secret"}
    completed = run_contract("--spec", "banking-auth", "--examples", "5", env=wrong)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "server login failed (401)" in completed.stdout
