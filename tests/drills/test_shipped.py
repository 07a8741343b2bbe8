"""`pismo-sandbox drill` with the drills installed with the package: --list, names instead of
paths, every shipped drill without arguments, one line per passing drill."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pismo_sandbox.cli import main
from pismo_sandbox.drills import shipped

from tests.drills.conftest import SCENARIOS


def test_every_scenario_of_the_checkout_is_shipped_under_its_name():
    assert set(shipped.shipped()) == {p.stem for p in SCENARIOS.glob("*.yaml")}


def test_no_shipped_scenario_reaches_outside_the_package_for_its_client():
    for path in SCENARIOS.glob("*.yaml"):
        assert "../" not in path.read_text(), path.name


def test_list_names_and_describes_every_shipped_drill(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["drill", "--list"])

    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert any(line.startswith("lost-response-on-pay") and "answer is lost" in line for line in lines)


def test_a_misspelt_drill_name_is_exit_2_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["drill", "lost-respons-on-pay"])

    assert result.exit_code == 2
    assert "did you mean 'lost-response-on-pay'?" in result.output


def test_no_argument_means_every_shipped_drill():
    assert shipped.resolve(()) == list(shipped.shipped().values())


@pytest.mark.slow
def test_a_drill_runs_by_name_from_any_directory_and_a_pass_is_one_line(drill_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["drill", "lost-response-on-pay", "--base-url", drill_sandbox.url])

    assert result.exit_code == 0, result.output
    [passed, summary] = result.output.splitlines()
    assert passed.startswith("PASS drill lost-response-on-pay (")
    assert summary == "1 drill(s): 1 passed, 0 failed, 0 could not run"


@pytest.mark.slow
def test_verbose_shows_the_whole_report_of_a_passing_drill(drill_sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["drill", "lost-response-on-pay", "-v", "--base-url", drill_sandbox.url])

    assert result.exit_code == 0, result.output
    assert "=== drill lost-response-on-pay: PASS" in result.output and "injected:" in result.output
