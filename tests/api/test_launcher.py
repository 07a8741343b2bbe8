"""Sandbox (pismo_sandbox.launcher) and `pismo-sandbox serve --port 0 / --state`, against served
instances (gunicorn, real sockets)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from pismo_sandbox import AdminError, Sandbox, SandboxStartError

pytestmark = pytest.mark.slow

STATE = """\
tenants:
  - tenant_id: TN-team
    server_key: sk_team
    server_secret: ss_team_secret
    accounts:
      - account_id: 200000001
        bank_account: {bank: "60701190", branch: "186", account_number: "1773065291"}
    credentials:
      - {provider: CELCOIN, type: BAAS, key: celcoin-secret}
"""


def test_two_sandboxes_serve_side_by_side_on_free_ports_with_their_own_state_and_are_gone_after_the_with_block():
    with Sandbox() as first, Sandbox() as second:
        url, directory = first.base_url, first.directory
        assert first.port not in (None, 0) and second.port not in (None, 0)
        assert requests.get(url + "/_sandbox/health", timeout=5).json()["status"] == "ok"
        assert os.path.isdir(directory)
        # connect() uses a sandbox someone else started: what it makes is in that sandbox
        other = Sandbox.connect(first.base_url)
        other.admin.create_tenant("TN-first")

        assert first.base_url != second.base_url
        assert [t["tenant_id"] for t in first.admin.tenants()] == ["TN-first"]
        assert second.admin.tenants() == []
        with pytest.raises(AdminError) as raised:
            other.admin.create_tenant("TN-first")
        assert raised.value.status == 409

    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=5)
    assert not os.path.exists(directory)  # the temporary database went with it


def test_settings_reach_the_served_sandbox(tmp_path):
    with Sandbox(db_path=str(tmp_path / "given.db"), settings={"admin_token": "s3cret"}) as sb:
        refused = requests.get(sb.base_url + "/_sandbox/tenants", timeout=5)
        health = sb.admin.health()  # the client sends the admin token the settings gave

    assert refused.status_code == 401
    assert health["database"] == str(tmp_path / "given.db")
    assert (tmp_path / "given.db").exists()  # a database that was given is kept


def test_without_inherit_env_the_callers_settings_stay_behind_but_the_document_cache_is_used(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PISMO_SANDBOX_ADMIN_TOKEN", "the-callers-token")
    monkeypatch.setenv("PISMO_SANDBOX_CACHE_DIR", str(cache))
    with Sandbox(db_path=str(tmp_path / "own.db"), inherit_env=False) as sb:
        listed = requests.get(sb.base_url + "/_sandbox/tenants", timeout=5)

    assert listed.status_code == 200  # the caller's admin token did not reach the sandbox
    assert list(cache.glob("*.marshal")), "the sandbox did not cache its documents in the given directory"


def test_a_fault_file_is_loaded_at_start(tmp_path):
    rules = tmp_path / "faults.yaml"
    rules.write_text("- {match: {operation_id: post-credentials}, action: {type: status, status: 502}}\n")

    with Sandbox(faults=rules) as sb:
        account = sb.new_account()
        answer = requests.post(
            sb.base_url + "/banking-auth/v1/credentials",
            headers=account.headers,
            timeout=5,
            json={"key": "k", "provider": "CELCOIN", "type": "BAAS"},
        )

    assert answer.status_code == 502


def test_a_sandbox_that_cannot_start_says_why(tmp_path):
    broken = tmp_path / "faults.yaml"
    broken.write_text("- {action: {type: nonsense}}\n")

    sandbox = Sandbox(faults=broken)
    with pytest.raises(SandboxStartError) as raised:
        sandbox.start()

    assert "faults" in str(raised.value)
    assert sandbox.directory is None  # nothing left behind


def test_serve_port_0_prints_the_url_it_serves_on_as_one_stdout_line(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pismo_sandbox",
            "serve",
            "--port",
            "0",
            "--workers",
            "1",
            "--db",
            str(tmp_path / "s.db"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        line = process.stdout.readline().strip()

        assert line.startswith("http://127.0.0.1:") and not line.endswith(":0")
        assert Sandbox.connect(line).admin.health()["status"] == "ok"  # the port gunicorn bound
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_state_file_boots_a_team_environment_and_survives_restarts(tmp_path):
    state = tmp_path / "state.yaml"
    state.write_text(STATE)
    db = str(tmp_path / "team.db")

    for _ in range(2):  # the second start applies the file again to the used database
        with Sandbox(db_path=db, state=state) as sb:
            token = sb.admin.login("sk_team", "ss_team_secret", 200000001)
            bank_account = requests.get(
                sb.base_url + "/intl-bankaccounts/v2/accounts/200000001/bank-accounts/BRAZIL",
                headers={"Authorization": f"Bearer {token}"},
                timeout=5,
            )
            credentials = sb.admin.credentials("TN-team")
            log = sb.output()

    assert bank_account.status_code == 200 and bank_account.json()["scheme"]["branch"] == "0186"
    assert [(c["provider"], c["version"]) for c in credentials] == [("CELCOIN", 1)]
    assert "nothing to change" in log


def test_an_invalid_state_file_stops_serve_with_its_position_and_exit_2(tmp_path, serve_with_state):
    state = tmp_path / "state.yaml"
    state.write_text("tenants:\n  - tenant_id: TN-x\n    acounts: []\n")

    done = serve_with_state(state)

    assert done.returncode == 2
    assert f"{state}:3:5: tenants[0].acounts: Unknown field." in done.stderr
    assert "Traceback" not in done.stderr


def test_a_sandbox_never_closed_is_stopped_when_the_program_exits(tmp_path):
    script = (
        "from pismo_sandbox import Sandbox\n"
        "sb = Sandbox().start()\n"
        "print(sb.base_url, sb.directory, flush=True)\n"
    )  # and exit without closing it

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)

    url, directory = done.stdout.split()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=5)
    assert not os.path.exists(directory)
