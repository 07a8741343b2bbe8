"""Delivery faults: duplicate, delay, drop and reorder, in the request-fault rule format, with
deterministic schedules; shown in the delivery log."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pismo_sandbox.core import EXTENSION
from tests.deliveries.publishing import FAST, publish
from tests.deliveries.test_retries import _log


def _bank_account_events(sandbox, n: int) -> list[str]:
    """n events from n tenants' bank-account registrations."""
    return [publish(sandbox, sandbox.tenant()) for _ in range(n)]


def _fault(client, rule: dict) -> dict:
    response = client.post("/_sandbox/delivery-faults", json=rule)
    assert response.status_code == 201, response.json
    return response.json


def test_a_duplicate_rule_delivers_the_same_event_id_twice(client, sandbox, tenant, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    rule = _fault(
        client, {"match": {"domain": "intl-bankaccounts"}, "action": {"type": "duplicate"}, "schedule": {"times": 1}}
    )
    event_id = publish(sandbox, tenant)
    worker.run_until_idle()
    assert [p.json()["event_id"] for p in hook.posts()] == [event_id, event_id]
    copies = _log(client, event_id=event_id)
    assert [(d["copy"], d["status"], d["fault"]) for d in copies] == [
        (0, "delivered", {"rule_id": rule["id"], "action": "duplicate"}),
        (1, "delivered", {"rule_id": rule["id"], "action": "duplicate"}),
    ]
    assert all(d["attempts"][0]["fault"] == {"rule_id": rule["id"], "action": "duplicate"} for d in copies)
    listed = client.get(f"/_sandbox/delivery-faults/{rule['id']}").json
    assert (listed["matched"], listed["fired"]) == (1, 1)


def test_a_drop_loses_the_first_attempt_and_the_event_is_redelivered(client, sandbox, tenant, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": FAST})
    rule = _fault(client, {"action": {"type": "drop"}})
    event_id = publish(sandbox, tenant)
    worker.run_until_idle()
    assert [p.json()["event_id"] for p in hook.posts()] == [event_id]
    [delivery] = _log(client)
    assert [(a["outcome"], a["fault"]) for a in delivery["attempts"]] == [
        ("dropped", {"rule_id": rule["id"], "action": "drop"}),
        ("acknowledged", None),
    ]


def test_a_delay_holds_the_first_attempt(app, client, sandbox, tenant, worker, receiver):
    now = [3_000_000.0]
    app.extensions[EXTENSION].deliveries.wall = lambda: now[0]
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    _fault(client, {"action": {"type": "delay", "ms": 1500}})
    publish(sandbox, tenant)
    worker.run_until_idle()
    assert hook.posts() == []
    now[0] += 1.4
    worker.run_until_idle()
    assert hook.posts() == []
    now[0] += 0.1
    worker.run_until_idle()
    assert len(hook.posts()) == 1


def test_reorder_holds_a_window_and_releases_it_in_another_order(client, sandbox, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    _fault(client, {"action": {"type": "reorder", "window": 3}, "schedule": {"times": 3}})
    written = _bank_account_events(sandbox, 3)
    worker.run_until_idle()
    received = [p.json()["event_id"] for p in hook.posts()]
    assert sorted(received) == sorted(written) and received != written


def test_a_partial_window_is_released_after_hold_ms(app, client, sandbox, worker, receiver):
    now = [4_000_000.0]
    app.extensions[EXTENSION].deliveries.wall = lambda: now[0]
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    _fault(client, {"action": {"type": "reorder", "window": 5, "hold_ms": 1000}})
    written = _bank_account_events(sandbox, 2)
    worker.run_until_idle()
    assert hook.posts() == [] and {d["status"] for d in _log(client)} == {"held"}
    now[0] += 1
    worker.run_until_idle()
    assert sorted(p.json()["event_id"] for p in hook.posts()) == sorted(written)


def test_nth_and_times_pick_which_deliveries_are_faulted(client, sandbox, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    _fault(client, {"action": {"type": "duplicate", "copies": 2}, "schedule": {"nth": 2, "times": 1}})
    written = _bank_account_events(sandbox, 3)
    worker.run_until_idle()
    counts = [sum(1 for p in hook.posts() if p.json()["event_id"] == e) for e in written]
    assert counts == [1, 3, 1]


def test_a_rule_matching_another_subscription_leaves_this_one_alone(client, sandbox, tenant, worker, receiver):
    hook, other = receiver(), receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    target = client.post("/_sandbox/subscriptions", json={"url": other.url}).json
    _fault(client, {"match": {"subscription_id": target["subscription_id"]}, "action": {"type": "duplicate"}})
    publish(sandbox, tenant)
    worker.run_until_idle()
    assert (len(hook.posts()), len(other.posts())) == (1, 2)


def _fired_pattern(client, sandbox, worker, receiver, seed: int) -> list[int]:
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    _fault(client, {"action": {"type": "duplicate"}, "schedule": {"probability": 0.5, "seed": seed}})
    written = _bank_account_events(sandbox, 6)
    worker.run_until_idle()
    return [sum(1 for p in hook.posts() if p.json()["event_id"] == e) for e in written]


def test_probability_draws_are_the_same_for_the_same_seed(client, sandbox, worker, receiver):
    first = _fired_pattern(client, sandbox, worker, receiver, seed=7)
    again = _fired_pattern(client, sandbox, worker, receiver, seed=7)
    assert first == again and set(first) <= {1, 2}


@pytest.mark.parametrize(
    "rule",
    [
        {"action": {"type": "reorder"}},
        {"action": {"type": "delay"}},
        {"action": {"type": "delay", "distribution": "uniform", "min_ms": 5, "max_ms": 1}},
        {"action": {"type": "drop", "copies": 2}},
        {"action": {"type": "duplicate", "window": 3}},
    ],
)
def test_a_rule_the_schema_cannot_judge_alone_is_refused(client, rule):
    response = client.post("/_sandbox/delivery-faults", json=rule)
    assert response.status_code == 400 and response.json["code"] == "SANDBOX_INVALID_FAULT_RULE"
    assert client.get("/_sandbox/delivery-faults").json["items"] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(["duplicate", "delay", "drop", "reorder", "status", "timeout"]),
    extra=st.dictionaries(
        st.sampled_from(["copies", "ms", "window", "hold_ms", "status"]),
        st.integers(min_value=-5, max_value=700_000),
        max_size=3,
    ),
)
def test_any_rule_is_stored_or_refused_with_a_400_never_a_500(client, action, extra):
    # The rules are cleared after every example: the shared client sees a clean table each time.
    response = client.post("/_sandbox/delivery-faults", json={"action": {"type": action, **extra}})
    assert response.status_code in (201, 400), response.json
    if response.status_code == 201:
        assert client.get(f"/_sandbox/delivery-faults/{response.json['id']}").status_code == 200
    client.delete("/_sandbox/delivery-faults")


def test_delivery_rules_are_listed_removed_and_cleared(client):
    one = _fault(client, {"action": {"type": "drop"}, "description": "lose one"})
    two = _fault(
        client, {"action": {"type": "delay", "distribution": "lognormal", "median_ms": 50, "sigma": 0.5, "cap_ms": 500}}
    )
    assert [r["id"] for r in client.get("/_sandbox/delivery-faults").json["items"]] == [one["id"], two["id"]]
    assert client.delete(f"/_sandbox/delivery-faults/{one['id']}").status_code == 204
    assert client.get(f"/_sandbox/delivery-faults/{one['id']}").status_code == 404
    assert client.delete("/_sandbox/delivery-faults").status_code == 204
    assert client.get("/_sandbox/delivery-faults").json["items"] == []


def test_a_fault_file_carries_delivery_rules_next_to_request_rules(tmp_path):
    from pismo_sandbox.domains.deliveries.files import read_delivery_rules
    from pismo_sandbox.faults.files import FaultFileError, read_rules

    path = tmp_path / "faults.yaml"
    path.write_text(
        "rules:\n  - action: {type: status, status: 503}\ndelivery_rules:\n  - action: {type: duplicate, copies: 2}\n"
    )
    assert len(read_rules(str(path))) == 1
    assert read_delivery_rules(str(path)) == [{"action": {"type": "duplicate", "copies": 2}}]
    only = tmp_path / "only.yaml"
    only.write_text("delivery_rules:\n  - action: {type: drop}\n")
    assert read_rules(str(only)) == [] and len(read_delivery_rules(str(only))) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("delivery_rules:\n  - action: {type: explode}\n")
    with pytest.raises(FaultFileError, match="delivery rule 1"):
        read_delivery_rules(str(bad))


def _uniform_delays(app, client, sandbox, worker, receiver) -> list[float]:
    from pismo_sandbox.clock import parse_instant

    assert client.post("/_sandbox/reset", json={}).status_code == 200
    now = [5_000_000.0]
    app.extensions[EXTENSION].deliveries.wall = lambda: now[0]
    client.post("/_sandbox/subscriptions", json={"url": receiver().url})
    _fault(
        client,
        {"action": {"type": "delay", "distribution": "uniform", "min_ms": 100, "max_ms": 900}, "schedule": {"seed": 3}},
    )
    _bank_account_events(sandbox, 4)
    worker.run_until_idle()
    return [parse_instant(d["next_attempt_at"]).timestamp() - now[0] for d in _log(client)]


def test_uniform_delays_are_drawn_in_range_and_the_same_for_the_same_seed(app, client, sandbox, worker, receiver):
    first = _uniform_delays(app, client, sandbox, worker, receiver)
    again = _uniform_delays(app, client, sandbox, worker, receiver)
    assert first == again and len(set(first)) > 1
    assert all(0.1 <= d <= 0.9 for d in first)
