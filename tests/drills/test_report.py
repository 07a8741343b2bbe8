"""Reports: the text report says what was injected, what the client did and which check failed;
the JUnit XML parses and its counts agree with its elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pismo_sandbox.drills.model import Check, ClientRun, DrillResult, Observation
from pismo_sandbox.drills.report import junit_xml, summary_line, text_report, write_junit

RULE = {
    "id": "fault-1",
    "match": {"operation_id": "post-integrated-payments-api-v1-bankslips-pay"},
    "action": {"type": "status", "status": 504},
    "phase": "after",
    "schedule": {"times": 1},
    "matched": 2,
    "fired": 1,
}
ROWS = [
    {
        "seq": 5,
        "method": "POST",
        "path": "/integrated-payments/v1/bankslips/pay",
        "status": 504,
        "operation_id": "post-integrated-payments-api-v1-bankslips-pay",
        "idempotency_key": "k1",
        "body_fingerprint": "abcdef0123",
        "fault_rule": "fault-1",
        "verdict": "ok",
        "duration_ms": 3.0,
    },
    {
        "seq": 6,
        "method": "POST",
        "path": "/integrated-payments/v1/bankslips/pay",
        "status": 409,
        "operation_id": "post-integrated-payments-api-v1-bankslips-pay",
        "idempotency_key": "k2",
        "body_fingerprint": "abcdef0123",
        "fault_rule": None,
        "verdict": "ok",
        "duration_ms": 1.0,
    },
]


def results() -> list[DrillResult]:
    passed = DrillResult(
        "good-drill",
        "scenarios/good.yaml",
        "all fine",
        duration=1.5,
        faults=[RULE],
        checks=[Check("invariant", "faults_fired", True, "1 rule fired")],
    )
    failed = DrillResult(
        "bad-drill",
        "scenarios/bad.yaml",
        "a lost answer",
        duration=2.0,
        faults=[RULE],
        client={"command": ["python", "naive.py"], "task": "pay-boleto"},
        runs=[
            ClientRun(
                0,
                ["python", "naive.py"],
                exit_code=1,
                duration=0.3,
                stdout="attempt 1: 504\x1b[0m\x00 retrying\n",
                stderr="",
            )
        ],
        checks=[
            Check("client", "client exit code", False, "exited 1, expected 0", line=30),
            Check(
                "invariant",
                "retries_reuse_idempotency_key",
                False,
                "duplicate payment of authorization 70000001",
                ["paid: authorization 70000001"],
                ROWS,
                line=37,
            ),
            Check("assertion", "payments count", True, "1 payment"),
        ],
    )
    failed.observation = Observation(ROWS, [], [], [], [RULE], {}, {}, {})
    broken = DrillResult(
        "broken-drill",
        "scenarios/broken.yaml",
        "setup refused",
        duration=0.1,
        error="setup.tenants[0].credentials[0]: POST /banking-auth/v1/credentials answered 500",
    )
    return [passed, failed, broken]


def test_the_text_report_tells_the_story_of_a_failure():
    text = text_report(results()[1])
    assert "drill bad-drill: FAIL" in text
    assert "fault-1: post-integrated-payments-api-v1-bankslips-pay: answer 504, after the request was processed" in text
    assert "client: python naive.py (task pay-boleto)" in text and "| attempt 1: 504" in text
    assert "#5 POST /integrated-payments/v1/bankslips/pay -> 504 key=k1" in text
    assert "FAIL invariant retries_reuse_idempotency_key (line 37): duplicate payment of authorization 70000001" in text
    assert "requests involved:" in text and "#6 POST" in text
    assert "PASS payments count" in text


def test_the_summary_names_the_failed_drills():
    assert summary_line(results()) == "3 drill(s): 1 passed, 1 failed, 1 could not run (bad-drill, broken-drill)"


def test_the_junit_xml_is_valid_and_its_counts_add_up(tmp_path):
    path = tmp_path / "drills.xml"
    write_junit(results(), str(path))
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["good-drill", "bad-drill", "broken-drill"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) > 0
        assert int(suite.get("failures")) == sum(len(c.findall("failure")) for c in cases)
        assert int(suite.get("errors")) == sum(len(c.findall("error")) for c in cases)
        assert float(suite.get("time")) >= 0 and suite.get("timestamp")
        assert all(c.get("classname") == f"drills.{suite.get('name')}" and c.get("name") for c in cases)
        assert suite.find("system-out") is not None
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    failure = suites[1].findall("testcase")[1].find("failure")
    assert failure.get("type") == "invariant" and "70000001" in failure.get("message")
    assert "#6 POST" in failure.text
    error = suites[2].find("testcase").find("error")
    assert error.get("type") == "DrillError" and "credentials[0]" in error.get("message")


def test_characters_xml_cannot_carry_are_replaced():
    text = junit_xml(results())
    assert "\x00" not in text and "\x1b" not in text
    ET.fromstring(text.split("\n", 1)[1])  # parses
