"""The README's curl walkthroughs run verbatim against a served sandbox."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

import pytest

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.slow


def walkthrough(name: str) -> str:
    """The shell code between <!-- NAME:begin --> and <!-- NAME:end --> in the README."""
    text = README.read_text()
    match = re.search(rf"<!-- {name}:begin -->(.*?)<!-- {name}:end -->", text, flags=re.S)
    assert match, f"README has no {name} walkthrough"
    return "\n".join(re.findall(r"```sh\n(.*?)```", match.group(1), flags=re.S))


def run_walkthrough(script: str, base: str, env: dict | None = None) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "BASE": base, **(env or {})},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_quick_start_runs_verbatim(served_sandbox):
    out = run_walkthrough(walkthrough("quickstart"), served_sandbox.url)
    assert "HTTP/1.1 201" in out
    assert '"code":"EBAA0005"' in out and "Required fields: [key]" in out
    assert '"operation_id":"post-credentials"' in out


def test_bank_account_walkthrough_runs_verbatim(served_sandbox):
    out = run_walkthrough(walkthrough("quickstart") + "\n" + walkthrough("bankaccounts"), served_sandbox.url)
    assert '"branch":"0186"' in out and "204" in out
    assert "intl_bankaccount_register-1" in out and "intl_bankaccount_update-1" in out


def test_paying_a_boleto_runs_verbatim(served_sandbox):
    out = run_walkthrough(walkthrough("quickstart") + "\n" + walkthrough("bankslips"), served_sandbox.url)
    assert "HTTP/1.1 202" in out and "x-idempotency-replayed: true" in out
    assert "IDEMPOTENCY_CONFLICT" in out and "['PAID']" in out and "['SETTLED']" in out
    events = [line.split()[1:] for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\dT\S+ ", line)]
    assert events == [  # the four its comment names, in order
        ["authorization-event-1"],
        ["bankslip_status_change-1", "PAID"],
        ["bankslip_status_change-1", "SETTLED"],
        ["financial_reconciliation-1"],
    ]
