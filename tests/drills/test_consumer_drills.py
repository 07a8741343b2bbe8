"""Consumer drills: the runner starts the consumer, subscribes it, installs delivery faults,
and judges it from the delivery log and the user's check; the shipped drill passes the good
consumer and catches the naive one, naming the duplicated events."""

from __future__ import annotations

import pytest

from pismo_sandbox.drills.report import text_report
from pismo_sandbox.drills.runner import DrillRunner
from pismo_sandbox.drills.scenario import ScenarioError, load_scenario
from tests.drills.conftest import ROOT, SCENARIOS

DRILL = SCENARIOS / "duplicate-and-reordered-events.yaml"
NAIVE_CONSUMER = (
    f"${{python}} {ROOT / 'examples' / 'naive_consumer.py'} --port ${{consumer_port}}"
    " --ledger ${consumer_dir}/ledger.json"
)


def run(sandbox, path, consumer=None):
    return DrillRunner(sandbox.url, consumer_command=consumer).run(load_scenario(str(path)))


@pytest.mark.slow
def test_the_good_consumer_passes_the_duplicate_and_reorder_drill(drill_sandbox):
    result = run(drill_sandbox, DRILL)
    assert result.passed, text_report(result, verbose=True)
    names = {c.name for c in result.checks}
    assert {"consumer check", "every event acknowledged", "retries bounded"} <= names
    assert [r["action"]["type"] for r in result.delivery_faults] == ["duplicate", "reorder"]
    assert all(r["fired"] >= 1 for r in result.delivery_faults)
    assert "injected into event delivery" in text_report(result)


@pytest.mark.slow
def test_the_naive_consumer_fails_and_the_report_names_the_duplicated_events(drill_sandbox):
    result = run(drill_sandbox, DRILL, NAIVE_CONSUMER)
    assert not result.passed
    [failed] = list(result.failures)
    assert failed.name == "consumer check"
    authorizations = [e["event_id"] for e in result.observation.events if e["event_type"] == "authorization-event-1"]
    assert len(authorizations) == 2
    report = text_report(result)
    for event_id in authorizations:
        assert f"delivered 2 times: event {event_id} (authorization-event-1)" in report
        assert f"event {event_id} (authorization-event-1" in report and "applied 2 times" in report
    assert "ledger total 460.50 != 230.25" in report


@pytest.mark.slow
def test_a_consumer_that_never_acknowledges_fails_with_bounded_retries(drill_sandbox, write_scenario):
    path = write_scenario("""
        name: refusing-consumer
        description: the consumer answers 500 to everything
        setup: {tenants: [{name: acme}]}
        consumer:
          command: ["${python}", "-c", "import http.server as h, sys\\nclass R(h.BaseHTTPRequestHandler):\\n def do_POST(s):\\n  s.rfile.read(int(s.headers['Content-Length'])); s.send_response(500); s.end_headers()\\nh.HTTPServer(('127.0.0.1', int(sys.argv[1])), R).serve_forever()", "${consumer_port}"]
          retry: {max_attempts: 2, backoff_seconds: 0.05, backoff_max_seconds: 0.05}
          timeout_seconds: 20
        steps:
          - name: register
            method: POST
            path: /intl-bankaccounts/v2/accounts/${account_id}/bank-accounts/brazil
            json: {scheme: {bank: "60701190", branch: "186", account_number: "1773065291", supplementary_data: {account_type: CACC}}}
            expect: {status: 201}
        expect:
          invariants: {faults_fired: false}
          deliveries: {max_attempts: 2}
    """)
    result = run(drill_sandbox, path)
    failed = {c.name: c for c in result.failures}
    assert set(failed) == {"every event acknowledged"}, text_report(result, verbose=True)
    assert "failed: event" in failed["every event acknowledged"].details[0]
    assert "after 2 attempt(s); last: rejected 500" in failed["every event acknowledged"].details[0]


@pytest.mark.slow
def test_a_consumer_that_exits_at_once_cannot_run_the_drill(drill_sandbox, write_scenario):
    path = write_scenario("""
        name: absent-consumer
        description: the consumer exits before listening
        setup: {tenants: [{name: acme}]}
        consumer: {command: ["${python}", "-c", "print('no port for me')"]}
        steps: [{name: health, path: /_sandbox/health, expect: {status: 200}}]
        expect: {invariants: {faults_fired: false}}
    """)
    result = run(drill_sandbox, path)
    assert result.error and "the consumer exited (0) before listening" in result.error
    assert "no port for me" in result.error


def _problems(write_scenario, text: str) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write_scenario(text))
    return [str(p) for p in caught.value.problems]


def test_delivery_faults_without_a_consumer_are_refused_before_anything_runs(write_scenario):
    problems = _problems(
        write_scenario,
        """
        name: no-consumer
        description: delivery faults, but nobody receives events
        setup: {tenants: [{name: acme}]}
        delivery_faults: [{action: {type: duplicate}}]
        steps: [{name: health, path: /_sandbox/health}]
    """,
    )
    assert any("delivery_faults: delivery faults need a consumer" in p for p in problems)


def test_consumer_mistakes_are_reported_with_their_line(write_scenario):
    problems = _problems(
        write_scenario,
        """
        name: bad-consumer
        description: mistakes
        setup: {tenants: [{name: acme}]}
        consumer:
          command: python consumer.py --port ${consumer_prot}
          fromat: sns
          filter: {tenant: nobody}
        delivery_faults:
          - action: {type: reorder}
        steps: [{name: health, path: /_sandbox/health}]
    """,
    )
    text = "\n".join(problems)
    assert "consumer.fromat: unknown field (did you mean 'format'?)" in text
    assert ":9:" in text and "delivery_faults[0]" in text and "window" in text
