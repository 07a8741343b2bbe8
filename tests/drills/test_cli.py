"""`pismo-sandbox drill`: exit codes, the report on stdout, the JUnit file."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from pismo_sandbox.cli import main

from tests.drills.conftest import NAIVE_CLIENT, SCENARIOS

LOST = str(SCENARIOS / "lost-response-on-pay.yaml")

# The tests of the shared drill sandbox run in one process, so only one is started.
pytestmark = pytest.mark.xdist_group("drill-sandbox")


def test_a_scenario_with_a_typo_stops_before_running_with_exit_2(write_scenario):
    path = write_scenario((SCENARIOS / "lost-response-on-pay.yaml").read_text().replace("advance:", "advence:"))
    result = CliRunner().invoke(main, ["drill", LOST, path])
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "advence: unknown field (did you mean 'advance'?)" in result.output
    assert "drill lost-response-on-pay" not in result.output  # nothing ran


def test_a_missing_file_is_a_usage_error():
    assert CliRunner().invoke(main, ["drill", "no-such-drill.yaml"]).exit_code == 2


@pytest.mark.slow
def test_a_passing_drill_exits_0(drill_sandbox, tmp_path):
    junit = tmp_path / "ok.xml"
    result = CliRunner().invoke(main, ["drill", LOST, "--base-url", drill_sandbox.url, "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    assert "1 drill(s): 1 passed" in result.output
    assert ET.parse(junit).getroot().get("failures") == "0"


@pytest.mark.slow
def test_the_naive_client_fails_on_a_fresh_sandbox_with_exit_1_and_a_junit_failure(tmp_path):
    junit = tmp_path / "drills.xml"
    result = CliRunner().invoke(main, ["drill", LOST, "--client", f"python {NAIVE_CLIENT}", "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    assert "FAIL invariant retries_reuse_idempotency_key" in result.output
    assert "duplicate payment of authorization" in result.output
    root = ET.parse(junit).getroot()
    failures = root.findall("./testsuite/testcase/failure")
    assert int(root.get("failures")) == len(failures) >= 2
    assert any("duplicate payment of authorization" in f.get("message") for f in failures)
