"""The runner end to end against a served sandbox: every shipped drill passes with the good
client; the naive client fails the drills that exist to catch it, and the report names the
duplicate payment; a drill that cannot run, a hung client, a drill that injected nothing all
fail loudly."""

from __future__ import annotations

import pytest

from pismo_sandbox.drills.report import text_report
from pismo_sandbox.drills.runner import DrillRunner
from pismo_sandbox.drills.scenario import load_scenario

from tests.drills.conftest import NAIVE_CLIENT, SCENARIOS

# The tests of the shared drill sandbox run in one process, so only one is started.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("drill-sandbox")]

SHIPPED = sorted(p.name for p in SCENARIOS.glob("*.yaml"))
CATCH_THE_NAIVE_CLIENT = [
    "lost-response-on-pay.yaml",
    "intermittent-504s.yaml",
    "latency-and-client-timeout.yaml",
    "socket-faults-on-pay.yaml",
    "upstream-account-errors.yaml",
    "concurrent-duplicate-bank-account.yaml",
]


def run(sandbox, path, client=None):
    return DrillRunner(sandbox.url, client).run(load_scenario(str(path)))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_drill_passes_with_the_good_client(drill_sandbox, name):
    result = run(drill_sandbox, SCENARIOS / name)
    assert result.passed, text_report(result, verbose=True)
    assert all(rule["fired"] >= 1 for rule in result.faults)


def test_the_naive_client_fails_the_lost_response_drill_and_the_report_names_the_duplicate(drill_sandbox):
    result = run(drill_sandbox, SCENARIOS / "lost-response-on-pay.yaml", f"${{python}} {NAIVE_CLIENT}")
    assert not result.passed
    failed = {c.name: c for c in result.failures}
    assert "retries_reuse_idempotency_key" in failed
    (paid,) = result.observation.payments
    check = failed["retries_reuse_idempotency_key"]
    assert f"duplicate payment of authorization {paid['authorization_id']} (boleto 'electricity')" in check.summary
    keys = [r["idempotency_key"] for r in check.requests]
    assert len(set(keys)) == 2 and paid["idempotency_key"] == keys[0]
    report = text_report(result)
    assert f"duplicate payment of authorization {paid['authorization_id']}" in report
    assert paid["digitable_line"] in report  # the slip, as the client knows it
    assert "answer lost after commit" in report


@pytest.mark.parametrize("name", CATCH_THE_NAIVE_CLIENT[1:])
def test_the_naive_client_fails_every_drill_that_targets_it(drill_sandbox, name):
    result = run(drill_sandbox, SCENARIOS / name, f"${{python}} {NAIVE_CLIENT}")
    assert not result.passed, text_report(result)


def test_each_scenario_starts_from_a_reset_sandbox(drill_sandbox):
    first = run(drill_sandbox, SCENARIOS / "lost-response-on-pay.yaml")
    second = run(drill_sandbox, SCENARIOS / "lost-response-on-pay.yaml")
    assert first.passed and second.passed
    assert len(second.observation.payments) == 1 and len(second.observation.tenants) == 1
    assert second.observation.journal[0]["seq"] > first.observation.journal[-1]["seq"]


def test_a_client_that_hangs_is_killed_and_fails(drill_sandbox, write_scenario):
    path = write_scenario("""
        name: hung-client
        description: the client never returns
        setup: {tenants: [{name: acme}]}
        client:
          command: ["${python}", "-c", "import time; time.sleep(60)"]
          timeout_seconds: 0.5
        expect: {invariants: {faults_fired: false}}
    """)
    result = run(drill_sandbox, path)
    assert not result.passed and result.runs[0].timed_out
    assert "did not finish in 0.5 s" in result.failures[0].summary


def test_a_drill_whose_faults_never_fired_fails(drill_sandbox, write_scenario):
    path = write_scenario("""
        name: idle-client
        description: the client exits at once, so the fault never fires
        setup: {tenants: [{name: acme}]}
        faults:
          - {match: {operation_id: post-credentials}, action: {type: status, status: 502}}
        client: {command: ["${python}", "-c", "pass"]}
    """)
    result = run(drill_sandbox, path)
    assert [c.name for c in result.failures] == ["faults_fired"]


def test_the_client_gets_the_drill_context_in_its_environment(drill_sandbox, write_scenario, tmp_path):
    out = tmp_path / "env.txt"
    path = write_scenario(f"""
        name: env-drill
        description: the client writes what it was given
        setup:
          tenants: [{{name: acme}}]
          boletos: [{{name: bill, amount: 12.34}}]
        client:
          command: ["${{python}}", "-c", "import os, sys; open(sys.argv[1], 'w').write(repr({{k: v for k, v in os.environ.items() if k.startswith('PISMO_')}}))", "{out}"]
          task: pay-boleto
          env: {{EXTRA: "${{boletos.bill.bar_code}}", PISMO_BANK_ACCOUNT: {{bank: "00000000"}}}}
        expect: {{invariants: {{faults_fired: false}}}}
    """)
    result = run(drill_sandbox, path)
    assert result.passed, text_report(result)
    seen = eval(out.read_text())
    assert seen["PISMO_BASE_URL"] == drill_sandbox.url and seen["PISMO_DRILL_TASK"] == "pay-boleto"
    for name in (
        "PISMO_TENANT_ID",
        "PISMO_ACCOUNT_ID",
        "PISMO_TOKEN",
        "PISMO_SERVER_KEY",
        "PISMO_SERVER_SECRET",
        "PISMO_BOLETO_BILL_DIGITABLE_LINE",
        "PISMO_BOLETOS",
        "PISMO_DRILL_CONTEXT",
    ):
        assert seen[name], name
    assert seen["PISMO_BANK_ACCOUNT"] == '{"bank": "00000000"}'
    assert '"amount": 12.34' in seen["PISMO_BOLETOS"]


def test_a_setup_the_sandbox_refuses_is_an_error_naming_the_field(drill_sandbox, write_scenario):
    path = write_scenario("""
        name: bad-setup
        description: the provider refuses the credential's API configuration (a trigger key)
        setup:
          tenants:
            - name: acme
              credentials: [{provider: BTG, type: BAAS, key: sandbox-fail-EBAA0014}]
        client: {command: ["${python}", "-c", "pass"]}
    """)
    result = run(drill_sandbox, path)
    assert not result.passed and result.error.startswith(
        "setup.tenants[0].credentials[0]: POST /banking-auth/v1/credentials answered 500"
    )
    assert "ERROR: the drill could not be run" in text_report(result)
