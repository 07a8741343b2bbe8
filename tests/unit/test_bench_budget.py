"""The budget `make bench` prints: what a scenario's CPU target allows a served request, and
whether cheaper serving alone could meet it (bench/budget.py)."""

from __future__ import annotations

import pytest

from bench.budget import TARGETS, add_budgets, budget, print_budget


def _figures(**changes) -> dict:
    figures = {  # pay as measured on a fresh clone (us of CPU a request)
        "cpu_us_per_request": 1322.0,
        "baseline_cpu_us_per_request": 329.0,
        "inprocess_cpu_us_per_request": 608.0,
        "baseline_inprocess_cpu_us_per_request": 68.0,
        "inprocess_spaced_cpu_us_per_request": 750.0,
        "baseline_inprocess_spaced_cpu_us_per_request": 114.0,
    }
    return {**figures, **changes}


def test_the_allowance_is_the_bare_apps_served_cost_over_the_target_and_the_least_uses_the_cold_figures():
    found = budget("pay", _figures())
    assert found is not None
    assert found["target_cpu_ratio"] == TARGETS["pay"] == 0.35
    assert found["allowed_cpu_us_per_request"] == pytest.approx(329 / 0.35, abs=0.1)
    assert found["own_work_spaced"] is True
    assert found["own_work_cpu_us_per_request"] == 750.0
    assert found["bare_serving_cpu_us_per_request"] == 329 - 114
    assert found["serving_beyond_bare_cpu_us_per_request"] == 1322 - (750 + 215)
    assert found["own_work_allowed_cpu_us_per_request"] == pytest.approx(329 / 0.35 - 215, abs=0.1)
    # Served as cheaply as the bare app, pay's own cold work would still miss 0.35.
    assert found["best_cpu_ratio"] == pytest.approx(329 / 965, abs=0.001)
    assert found["best_cpu_ratio"] < found["target_cpu_ratio"]


def test_without_the_spaced_replay_the_back_to_back_figures_are_the_own_work():
    figures = _figures(inprocess_spaced_cpu_us_per_request=None, baseline_inprocess_spaced_cpu_us_per_request=None)
    found = budget("credentials", {**figures, "inprocess_cpu_us_per_request": 271.0})
    assert found is not None
    assert found["own_work_spaced"] is False
    assert found["own_work_cpu_us_per_request"] == 271.0
    assert found["bare_serving_cpu_us_per_request"] == 329 - 68
    assert found["best_cpu_ratio"] == pytest.approx(329 / (271 + 261), abs=0.001)
    assert found["best_cpu_ratio"] > found["target_cpu_ratio"]


@pytest.mark.parametrize(
    "name, figures",
    [
        ("receipts", _figures()),  # no target
        ("pay", _figures(inprocess_cpu_us_per_request=None, inprocess_spaced_cpu_us_per_request=None)),
        ("pay", _figures(baseline_cpu_us_per_request=0.0)),
    ],
)
def test_a_scenario_without_a_target_or_a_figure_has_no_budget(name, figures):
    assert budget(name, figures) is None


def test_the_budget_table_has_a_row_per_scenario_with_a_target(capsys):
    results = {"pay": {"budget": budget("pay", _figures())}, "receipts": {}}
    print_budget(results)
    lines = capsys.readouterr().out.splitlines()
    [header] = [line for line in lines if line.startswith("budget")]
    rows = lines[lines.index(header) + 1 :]
    assert "own work (spaced)" in header
    assert rows[0].split() == ["pay", "0.35", "940", "750", "725", "215", "357", "0.34"]
    assert not any(row.startswith("receipts") for row in rows)


def test_no_budget_prints_nothing(capsys):
    print_budget({"receipts": {}})
    assert capsys.readouterr().out == ""


def test_the_bare_apps_own_work_is_the_median_over_the_runs_scenarios_so_one_noisy_replay_moves_no_budget():
    results = {
        "pay": _figures(baseline_inprocess_spaced_cpu_us_per_request=105.0),
        "register": _figures(
            cpu_us_per_request=1131.0,
            baseline_cpu_us_per_request=330.0,
            inprocess_spaced_cpu_us_per_request=564.0,
            baseline_inprocess_spaced_cpu_us_per_request=280.0,  # a noisy replay
        ),
        "credentials": _figures(baseline_inprocess_spaced_cpu_us_per_request=112.0),
        "receipts": _figures(baseline_inprocess_spaced_cpu_us_per_request=100.0),
    }
    add_budgets(results)
    register = results["register"]["budget"]
    assert register["bare_own_cpu_us_per_request"] == 108.5  # not 280
    assert register["bare_serving_cpu_us_per_request"] == 330 - 108.5
    assert register["best_cpu_ratio"] == pytest.approx(330 / (564 + 221.5), abs=0.001)
    assert results["pay"]["budget"]["bare_own_cpu_us_per_request"] == 108.5
    assert "budget" not in results["receipts"]  # no target


def test_own_work_and_the_bare_apps_figure_are_of_one_kind_when_a_run_has_no_spaced_replay():
    results = {
        "pay": _figures(inprocess_spaced_cpu_us_per_request=None, baseline_inprocess_spaced_cpu_us_per_request=None),
        "credentials": _figures(
            inprocess_cpu_us_per_request=271.0,
            baseline_inprocess_cpu_us_per_request=70.0,
            inprocess_spaced_cpu_us_per_request=None,
            baseline_inprocess_spaced_cpu_us_per_request=None,
        ),
    }
    add_budgets(results)
    pay = results["pay"]["budget"]
    assert pay["own_work_spaced"] is False
    assert pay["own_work_cpu_us_per_request"] == 608.0  # back to back
    assert pay["bare_own_cpu_us_per_request"] == 69.0  # median of 68 and 70, back to back
