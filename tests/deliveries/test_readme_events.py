"""The README's event-delivery walkthrough runs verbatim against a served sandbox (after the
quick start, which makes the tenant, account and token it uses)."""

from __future__ import annotations

import pathlib

import pytest

from pismo_sandbox.launcher import free_port
from tests.served.test_readme import run_walkthrough, walkthrough

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_event_delivery_walkthrough_runs_verbatim(served_sandbox, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)  # the walkthrough starts examples/event_receiver.py
    script = walkthrough("quickstart") + "\n" + walkthrough("events")
    out = run_walkthrough(script, served_sandbox.url, {"RECEIVER_PORT": str(free_port()), "TMPDIR": str(tmp_path)})
    assert '"subscription_id":"sub-' in out and '"secret":"whsec_' in out
    pushes = [line for line in out.splitlines() if line.startswith("pismo intl_bankaccount_register-1 ")]
    assert len(pushes) == 2 and pushes[0] == pushes[1]  # one event, delivered twice
    assert '"copy":1' in out and '"action":"duplicate"' in out
