"""The scenario format: shipped files load, and every kind of mistake is reported with the file,
the line and the field path before anything runs."""

from __future__ import annotations

import pytest

from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import ScenarioError, load_scenario, load_scenarios

from tests.drills.conftest import SCENARIOS

VALID = """
    name: tiny
    description: a small valid drill
    setup:
      tenants:
        - name: acme
          credentials:
            - {provider: CELCOIN, type: BAAS, key: k}
      boletos:
        - {name: bill, amount: 10.0}
    faults:
      - match: {operation_id: post-integrated-payments-api-v1-bankslips-pay, account: acme}
        action: {type: status, status: 504}
        phase: after
        schedule: {times: 1}
    client:
      command: ${python} client.py ${boletos.bill.digitable_line}
      env: {LINE: "${boletos.bill.digitable_line}", OBJ: {a: 1}}
    expect:
      invariants:
        retries_reuse_idempotency_key: {}
"""


def problems_of(write_scenario, text: str) -> list:
    path = write_scenario(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert all(p.file == path for p in caught.value.problems)
    return caught.value.problems


def test_every_shipped_scenario_loads_and_the_required_drills_are_there():
    files = sorted(str(p) for p in SCENARIOS.glob("*.yaml"))
    scenarios = load_scenarios(files)
    names = {s.name for s in scenarios}
    assert len(scenarios) >= 6
    assert {
        "lost-response-on-pay",
        "provider-502-on-credentials",
        "intermittent-504s",
        "latency-and-client-timeout",
        "upstream-account-errors",
        "concurrent-duplicate-bank-account",
    } <= names
    for scenario in scenarios:
        assert scenario.faults or scenario.delivery_faults, f"{scenario.name} injects nothing"


def test_a_valid_scenario_loads_with_defaults(write_scenario):
    scenario = load_scenario(write_scenario(VALID))
    assert scenario.tenants[0]["accounts"] == [{"name": "acme", "account_id": None, "status": "NORMAL"}]
    assert scenario.faults[0]["refs"] == {"account": "acme"}
    assert "account" not in scenario.faults[0]["rule"]["match"]
    assert scenario.expect["client_exit_code"] == 0
    invariants = scenario.expect["invariants"]
    assert invariants["retries_reuse_idempotency_key"]["operations"] == [
        "post-integrated-payments-api-v1-bankslips-pay"
    ]
    assert invariants["faults_fired"] == {} and invariants["contract_clean"] == {}
    assert invariants["no_slip_paid_twice"] is None  # only what the file asks for, plus the two defaults


def test_a_misspelt_field_is_named_with_its_line_and_a_suggestion(write_scenario):
    problems = problems_of(write_scenario, VALID.replace("credentials:", "credentails:"))
    assert len(problems) == 1
    problem = problems[0]
    assert problem.line == 6 and problem.field == "setup.tenants[0].credentails"
    assert "did you mean 'credentials'" in problem.message
    assert str(problem).startswith(f"{problem.file}:6:")


def test_a_misspelt_top_level_field_and_a_missing_one_are_both_reported(write_scenario):
    text = VALID.replace("description: a small valid drill", "descripton: a small valid drill")
    problems = problems_of(write_scenario, text)
    fields = {p.field: p for p in problems}
    assert "did you mean 'description'" in fields["descripton"].message
    assert fields["descripton"].line == 2
    assert fields["description"].message == "required field is missing"


def test_a_fault_rule_is_checked_with_the_admin_api_rules(write_scenario):
    text = (
        VALID.replace("type: status, status: 504", "type: staus, status: 504")
        .replace("phase: after", "phase: later")
        .replace("schedule: {times: 1}", "schedule: {time: 1}")
    )
    problems = problems_of(write_scenario, text)
    fields = {p.field: p for p in problems}
    assert "faults[0].action.type" in fields and "status" in fields["faults[0].action.type"].message
    assert fields["faults[0].action.type"].line == 12
    assert fields["faults[0].phase"].line == 13
    assert "did you mean 'times'" in fields["faults[0].schedule.time"].message


def test_a_fault_rule_the_schema_alone_cannot_check_is_refused(write_scenario):
    problems = problems_of(write_scenario, VALID.replace("{type: status, status: 504}", "{type: status}"))
    assert problems[0].field == "faults[0].action.status" and problems[0].line == 12


def test_steps_and_client_are_exclusive(write_scenario):
    both = VALID + "    steps:\n      - {name: s, path: /x}\n"
    assert "either steps" in problems_of(write_scenario, both)[0].message
    neither = VALID.split("    client:")[0] + "    expect: {}\n"
    assert "either steps" in problems_of(write_scenario, neither)[0].message


def test_broken_yaml_names_the_line(write_scenario):
    problems = problems_of(
        write_scenario, "name: x\ndescription: y\nsetup:\n  tenants: [{name: a}\nclient: {command: x}\n"
    )
    assert problems[0].line == 5 and "not valid YAML" in problems[0].message


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite(write_scenario):
    problems = problems_of(write_scenario, VALID.replace("    client:\n", "    name: again\n    client:\n"))
    assert problems[0].field == "name" and "duplicate key" in problems[0].message


def test_unknown_references_are_caught_before_the_run(write_scenario):
    text = VALID.replace('${boletos.bill.digitable_line}"', '${boletos.bil.digitable_line}"').replace(
        "account: acme}", "account: acmee}"
    )
    problems = problems_of(write_scenario, text)
    messages = {p.field: p.message for p in problems}
    assert "did you mean 'bill'" in messages["client.env.LINE"]
    assert "no account named 'acmee'" in messages["faults[0].match.account"]


def test_step_references_follow_the_order_of_the_steps(write_scenario):
    text = (
        VALID.split("    client:")[0]
        + """    steps:
      - name: first
        path: /a/${second_value}
      - name: second
        path: /b
        capture: {second_value: body.x}
      - name: third
        path: /c/${second_value}/${steps.first.body.anything}
"""
    )
    problems = problems_of(write_scenario, text)
    assert [p.field for p in problems] == ["steps[0].path"]
    assert problems[0].line == 17


def test_invariant_and_assertion_typos(write_scenario):
    text = VALID.replace(
        "retries_reuse_idempotency_key: {}",
        "retries_reuse_idempotency_keys: {}\n"
        "      assertions:\n        - {events: {type: x}, count: {min: 3, max: 1}}\n"
        "        - {journal: {status: 504}}\n        - {evnts: {}, count: 1}",
    )
    fields = {p.field: p.message for p in problems_of(write_scenario, text)}
    assert "did you mean 'retries_reuse_idempotency_key'" in fields["expect.invariants.retries_reuse_idempotency_keys"]
    assert fields["expect.assertions[0].count"] == "min must not exceed max"
    assert fields["expect.assertions[1].count"] == "required field is missing"
    assert "exactly one of" in fields["expect.assertions[2]"]


def test_load_scenarios_reports_every_bad_file_at_once(write_scenario):
    good = write_scenario(VALID, "good.yaml")
    bad1 = write_scenario(VALID.replace("amount: 10.0", "amount: ten"), "bad1.yaml")
    bad2 = write_scenario("- just a list\n", "bad2.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenarios([good, bad1, bad2])
    assert {p.file for p in caught.value.problems} == {bad1, bad2}
    assert "bad1.yaml:9:" in str(caught.value)


def test_two_files_cannot_share_a_drill_name(write_scenario):
    with pytest.raises(ScenarioError, match="also used by"):
        load_scenarios([write_scenario(VALID, "a.yaml"), write_scenario(VALID, "b.yaml")])


def test_interpolation_keeps_types_and_escapes():
    context = {"n": 5, "boletos": {"bill": {"line": "123"}}}
    assert interpolate("${n}", context) == 5
    assert interpolate("n=${n}, line ${boletos.bill.line}", context) == "n=5, line 123"
    assert interpolate({"a": ["${n}"]}, context) == {"a": [5]}
    assert interpolate("$${n} stays", context) == "${n} stays"
    with pytest.raises(KeyError, match=r"has no .m. .known: n."):
        interpolate("${m}", {"n": 1})
