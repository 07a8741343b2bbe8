"""Fault rules through the admin API, as the in-process client sees them (status, delay,
timeout, phases, order, counters, journal); socket-level faults are in tests/served."""

from __future__ import annotations

import time

import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config

URL = "/banking-auth/v1/credentials"
BODY = {"key": "k", "provider": "CELCOIN", "type": "PIX"}


def _fault(client, **rule) -> dict:
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 201, response.json
    return response.json


def _stored(client, tenant) -> list[dict]:
    return client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).json["items"]


def test_status_fault_answers_the_body_the_operation_documents(client, tenant):
    rule = _fault(client, match={"operation_id": "post-credentials"}, action={"type": "status", "status": 502})
    response = client.post(URL, json=BODY, headers=tenant.headers)
    assert response.status_code == 502
    assert response.json == {"code": "EBAA0002", "message": "Bad Gateway Error"}
    assert response.headers["x-sandbox-fault"] == rule["id"]
    assert response.headers["x-cid"]


def test_status_the_operation_does_not_document_gets_a_gateway_style_body(client, tenant):
    _fault(client, action={"type": "status", "status": 503})
    response = client.post(URL, json=BODY, headers=tenant.headers)
    assert response.status_code == 503
    assert response.json["code"] == "GATEWAY_503" and response.json["message"] == "Service Unavailable"


def test_custom_body_wins(client, tenant):
    _fault(client, action={"type": "status", "status": 500, "body": {"code": "EBAA0011", "message": "x"}})
    assert client.post(URL, json=BODY, headers=tenant.headers).json == {"code": "EBAA0011", "message": "x"}


def test_phase_before_means_nothing_was_committed(client, tenant):
    _fault(client, action={"type": "status", "status": 504}, phase="before")
    assert client.post(URL, json=BODY, headers=tenant.headers).status_code == 504
    assert _stored(client, tenant) == []


def test_phase_after_commits_and_loses_the_answer(client, tenant):
    _fault(client, action={"type": "status", "status": 504}, phase="after")
    response = client.post(URL, json=BODY, headers=tenant.headers)
    assert response.status_code == 504 and response.json["code"] == "EBAA0003"
    assert [c["version"] for c in _stored(client, tenant)] == [1]


def test_nth_and_times_count_matching_requests_exactly(client, tenant):
    rule = _fault(client, action={"type": "status", "status": 502}, schedule={"nth": 2, "times": 2})
    statuses = [client.post(URL, json=BODY, headers=tenant.headers).status_code for _ in range(5)]
    assert statuses == [201, 502, 502, 201, 201]
    counters = client.get(f"/_sandbox/faults/{rule['id']}").json
    assert (counters["matched"], counters["fired"]) == (3, 2)  # spent after the 3rd match


def test_rules_are_first_match_in_creation_order(client, tenant):
    first = _fault(
        client, match={"path": "/banking-auth/*"}, action={"type": "status", "status": 502}, schedule={"times": 1}
    )
    second = _fault(client, action={"type": "status", "status": 504})
    statuses = [client.post(URL, json=BODY, headers=tenant.headers).status_code for _ in range(3)]
    assert statuses == [502, 504, 504]
    rules = {r["id"]: r for r in client.get("/_sandbox/faults").json["items"]}
    assert rules[first["id"]]["fired"] == 1 and rules[second["id"]]["fired"] == 2


def test_rules_scoped_to_a_tenant_leave_others_alone(client, sandbox):
    alice, bob = sandbox.tenant(), sandbox.tenant()
    _fault(client, match={"tenant_id": alice.tenant_id}, action={"type": "status", "status": 502})
    assert client.post(URL, json=BODY, headers=alice.headers).status_code == 502
    assert client.post(URL, json=BODY, headers=bob.headers).status_code == 201


def test_the_control_plane_is_never_faulted(client):
    _fault(client, action={"type": "status", "status": 502})
    assert client.get("/_sandbox/health").status_code == 200


def test_delay_holds_then_answers_normally(client, tenant):
    _fault(client, action={"type": "delay", "ms": 300}, phase="after")
    started = time.perf_counter()
    response = client.post(URL, json=BODY, headers=tenant.headers)
    assert response.status_code == 201 and time.perf_counter() - started >= 0.3


def test_timeout_holds_then_answers_504(client, tenant):
    _fault(client, action={"type": "timeout", "ms": 250})
    started = time.perf_counter()
    response = client.post(URL, json=BODY, headers=tenant.headers)
    assert response.status_code == 504 and response.json["code"] == "EBAA0003"
    assert time.perf_counter() - started >= 0.25
    assert _stored(client, tenant) == []


def test_journal_names_the_rule_that_fired(client, sandbox, tenant):
    rule = _fault(client, action={"type": "status", "status": 502}, schedule={"times": 1})
    client.post(URL, json=BODY, headers=tenant.headers)
    client.post(URL, json=BODY, headers=tenant.headers)
    entries = [e for e in sandbox.journal(limit=10) if e["path"] == URL]
    assert [(e["status"], e["fault_rule"], e["verdict"]) for e in entries] == [
        (201, None, "ok"),
        (502, rule["id"], "fault_injected"),
    ]


def test_rules_can_be_listed_read_and_deleted(client):
    a = _fault(client, action={"type": "reset"})
    b = _fault(client, action={"type": "empty"}, description="drop the line")
    assert [r["id"] for r in client.get("/_sandbox/faults").json["items"]] == [a["id"], b["id"]]
    assert client.get(f"/_sandbox/faults/{b['id']}").json["description"] == "drop the line"
    assert client.delete(f"/_sandbox/faults/{a['id']}").status_code == 204
    assert client.get(f"/_sandbox/faults/{a['id']}").status_code == 404
    assert client.delete(f"/_sandbox/faults/{a['id']}").status_code == 404
    assert client.delete("/_sandbox/faults").status_code == 204
    assert client.get("/_sandbox/faults").json["items"] == []


@pytest.mark.parametrize(
    "rule,field",
    [
        ({"action": {"type": "status"}}, "action.status"),
        ({"action": {"type": "delay", "distribution": "uniform", "min_ms": 5}}, "max_ms"),
        ({"action": {"type": "nope"}}, "action.type"),
        ({"match": {"colour": "red"}, "action": {"type": "reset"}}, "match"),
    ],
)
def test_invalid_rules_get_400_naming_the_field(client, rule, field):
    response = client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 400
    assert field in response.json["details"]
    assert client.get("/_sandbox/faults").json["items"] == []


def test_reset_removes_the_rules(client):
    _fault(client, action={"type": "reset"})
    client.post("/_sandbox/reset", json={})
    assert client.get("/_sandbox/faults").json["items"] == []


def test_fault_header_is_ignored_unless_enabled(client, tenant):
    response = client.post(URL, json=BODY, headers={**tenant.headers, "x-sandbox-fault": "504"})
    assert response.status_code == 201


@pytest.fixture
def header_client(tmp_path):
    return create_app(Config(db_path=str(tmp_path / "h.db"), fault_header_enabled=True)).test_client()


@pytest.mark.parametrize(
    "header,status,stored",
    [
        ("504", 504, 0),
        ("504;phase=after", 504, 1),
        ("502", 502, 0),
        ("timeout=10", 504, 0),
        ("delay=10", 201, 1),
    ],
)
def test_fault_header_triggers_one_request_when_enabled(header_client, header, status, stored):
    from tests.conftest import Sandbox

    tenant = Sandbox(header_client).tenant()
    response = header_client.post(URL, json=BODY, headers={**tenant.headers, "x-sandbox-fault": header})
    assert response.status_code == status
    assert (
        len(header_client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).json["items"])
        == stored
    )
    assert header_client.post(URL, json=BODY, headers=tenant.headers).status_code == 201
