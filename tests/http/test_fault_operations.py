"""A fault rule must name an operation that exists: a misspelt operation_id would match nothing
and never fire, so it is refused (admin API, fault files, drill scenarios) with the closest
names; fault files say where, as FILE:LINE:COLUMN."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pismo_sandbox.drills.scenario import ScenarioError, load_scenario
from pismo_sandbox.faults.files import FaultFileError, read_rules
from pismo_sandbox.faults.rules import known_operations

ACTION = {"type": "status", "status": 502}


def test_a_misspelt_operation_is_refused_with_did_you_mean_and_nothing_is_stored(client):
    response = client.post("/_sandbox/faults", json={"match": {"operation_id": "post-credential"}, "action": ACTION})
    assert response.status_code == 400
    assert response.json["code"] == "SANDBOX_INVALID_FAULT_RULE"
    assert set(response.json) == {"code", "message", "details"}
    assert "match.operation_id" in response.json["details"]
    assert "did you mean 'post-credentials'" in response.json["details"]
    assert client.get("/_sandbox/faults").json["items"] == []


def test_a_real_operation_is_accepted_and_fires(client, tenant):
    created = client.post("/_sandbox/faults", json={"match": {"operation_id": "post-credentials"}, "action": ACTION})
    assert created.status_code == 201
    answer = client.post(
        "/banking-auth/v1/credentials", json={"key": "k", "provider": "CELCOIN", "type": "PIX"}, headers=tenant.headers
    )
    assert answer.status_code == 502 and answer.headers["x-sandbox-fault"] == created.json["id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operation_id=st.one_of(st.sampled_from(sorted(known_operations())), st.text(max_size=60)))
def test_a_rule_is_stored_exactly_when_its_operation_exists(client, operation_id):
    before = len(client.get("/_sandbox/faults").json["items"])
    response = client.post("/_sandbox/faults", json={"match": {"operation_id": operation_id}, "action": ACTION})
    after = len(client.get("/_sandbox/faults").json["items"])
    if operation_id in known_operations():
        assert response.status_code == 201 and after == before + 1
    else:
        assert response.status_code == 400 and after == before
        assert response.json["code"] == "SANDBOX_INVALID_FAULT_RULE"


def test_a_fault_file_reports_every_mistake_with_file_line_and_column(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text(
        "rules:\n"
        "  - match: {operation_id: post-integrated-payments-api-v1-bankslip-pay}\n"
        "    action: {type: status, status: 504}\n"
        "  - match: {operation_id: post-credentials}\n"
        "    action:\n"
        "      type: status\n"
    )
    with pytest.raises(FaultFileError) as raised:
        read_rules(str(path))
    first, second = str(raised.value).splitlines()
    assert first.startswith(f"{path}:2:13: rule 1: match.operation_id: no operation is called")
    assert "did you mean 'post-integrated-payments-api-v1-bankslips-pay'" in first
    assert second == f"{path}:5:5: rule 2: action.status: a status action needs status (400-599)"


def test_a_fault_file_that_is_not_yaml_says_where(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("- match: {operation_id: [unclosed\n")
    with pytest.raises(FaultFileError) as raised:
        read_rules(str(path))
    assert str(raised.value).startswith(f"{path}:2:1: not valid YAML")


def test_a_json_fault_file_is_read_with_positions_too(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text(
        '[\n  {"match": {"operation_id": "post-credentials"}, "action": {"type": "status", "status": 502}},\n'
        '  {"match": {"operation_id": "post-credentialz"}, "action": {"type": "status", "status": 502}}\n]\n'
    )
    with pytest.raises(FaultFileError) as raised:
        read_rules(str(path))
    assert str(raised.value).startswith(f"{path}:3:14: rule 2: match.operation_id")


def test_a_drill_scenario_with_a_misspelt_operation_is_refused_before_it_runs(tmp_path):
    text = (
        "name: typo\ndescription: a misspelt operation\nsetup:\n  tenants: [{}]\n"
        "faults:\n  - match: {operation_id: post-credential}\n    action: {type: status, status: 502}\n"
        "steps:\n  - name: one\n    path: /_sandbox/health\n"
    )
    with pytest.raises(ScenarioError) as raised:
        load_scenario(str(tmp_path / "typo.yaml"), text)
    assert "faults[0].match.operation_id" in str(raised.value) and "did you mean 'post-credentials'" in str(
        raised.value
    )
    assert ":6:" in str(raised.value)
