"""The pytest plugin, as a user's suite meets it: run in a separate pytest process from a
directory outside the checkout, loaded through the pytest11 entry point (no conftest)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest


pytestmark = pytest.mark.slow

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "test_with_pismo_sandbox.py"


# Plugins a user's suite here does not use, left out of its start-up (about 1 s each run):
# Schemathesis's, Hypothesis's, xdist's and anyio's.
UNUSED_PLUGINS = ("-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:anyio")


def run_pytest(directory: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNUSED_PLUGINS, *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


def user_file(directory: pathlib.Path, text: str) -> None:
    (directory / "test_user.py").write_text(textwrap.dedent(text), encoding="utf-8")


def test_the_worked_example_passes(tmp_path):
    shutil.copy(EXAMPLE, tmp_path)

    done = run_pytest(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_a_running_sandbox_is_used_when_its_url_is_given(tmp_path, served_sandbox):
    user_file(
        tmp_path,
        """
        def test_makes_an_account(pismo_account):
            assert pismo_account.headers == {"Authorization": f"Bearer {pismo_account.token}"}
        """,
    )
    sb = served_sandbox
    done = run_pytest(tmp_path, f"--pismo-sandbox-url={sb.base_url}")
    tenants = sb.admin.tenants()

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(tenants) == 1  # the account was made in this sandbox


def test_fault_rules_last_one_test_and_others_are_left_alone(tmp_path, served_sandbox):
    user_file(
        tmp_path,
        """
        import pytest, requests

        RULE = {"match": {"operation_id": "post-credentials"}, "action": {"type": "status", "status": 502}}

        def test_adds_a_rule(pismo_faults, pismo_sandbox):
            pismo_faults.add(RULE)
            assert len(pismo_sandbox.admin.faults()) == 2

        @pytest.mark.pismo_faults(RULE)
        def test_marked(pismo_sandbox, pismo_account):
            answer = requests.post(pismo_sandbox.base_url + "/banking-auth/v1/credentials",
                                   json={"key": "k", "provider": "CELCOIN", "type": "BAAS"},
                                   headers=pismo_account.headers, timeout=10)
            assert answer.status_code == 502

        def test_after_them(pismo_sandbox):
            assert len(pismo_sandbox.admin.faults()) == 1
        """,
    )
    sb = served_sandbox
    kept = sb.admin.add_fault(match={"operation_id": "sandbox-health"}, action={"type": "delay", "ms": 1})
    done = run_pytest(tmp_path, "-p", "no:randomly", f"--pismo-sandbox-url={sb.base_url}")
    left = sb.admin.faults()

    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["id"] for r in left] == [kept["id"]]


def test_the_plugin_starts_nothing_for_tests_that_do_not_ask(tmp_path):
    user_file(
        tmp_path,
        """
        import sys

        def test_plain(request):
            assert request.config.pluginmanager.has_plugin("pismo_sandbox")
            assert "pismo_sandbox.launcher" not in sys.modules
        """,
    )

    done = run_pytest(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr


def test_ini_settings_and_state_file_configure_the_started_sandbox(tmp_path):
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\npismo_sandbox_state = state/team.yaml\npismo_sandbox_settings =\n    token_ttl_seconds=77\n"
    )
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "team.yaml").write_text(
        "tenants:\n  - {tenant_id: TN-team, server_key: sk_team, server_secret: ss_team, accounts: [{account_id: 7}]}\n"
    )
    user_file(
        tmp_path,
        """
        from datetime import datetime

        def instant(text):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        def test_the_team_tenant_logs_in_and_tokens_live_77_seconds(pismo_sandbox):
            assert pismo_sandbox.admin.login("sk_team", "ss_team", 7)
            pismo_sandbox.admin.freeze_clock()  # the lifetime is read on a clock that does not move
            issued = pismo_sandbox.admin.issue_token("TN-team", 7)
            lifetime = (instant(issued["expires_at"]) - instant(pismo_sandbox.admin.clock()["now"])).total_seconds()
            assert 76 < lifetime <= 77  # expiry is in whole seconds (a JWT exp); the clock has ms
        """,
    )

    done = run_pytest(tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
