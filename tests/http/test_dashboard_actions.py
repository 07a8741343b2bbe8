"""The dashboard's actions through HTTP: the clock presets (a business day follows the clearing
calendar), an account's status, fault rules created from the form's JSON exactly as the admin API
takes them, and deleted."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.http._dashboard import UI


def _clock(client, **body):
    return client.post(f"{UI}/actions/clock", json=body)


@pytest.mark.parametrize(
    "start, preset, end",
    [
        ("2025-06-02T13:00:00.000Z", "minute", "2025-06-02T13:01:00.000Z"),
        ("2025-06-02T13:00:00.000Z", "hour", "2025-06-02T14:00:00.000Z"),
        ("2025-06-02T13:00:00.000Z", "business_day", "2025-06-03T13:00:00.000Z"),  # Monday -> Tuesday
        ("2025-06-06T13:00:00.000Z", "business_day", "2025-06-09T13:00:00.000Z"),  # Friday -> Monday
        ("2025-04-17T13:00:00.000Z", "business_day", "2025-04-22T13:00:00.000Z"),  # Good Friday, Tiradentes
        ("2025-06-07T02:30:00.000Z", "business_day", "2025-06-10T02:30:00.000Z"),  # Friday 23:30 in Brasilia
    ],
)
def test_clock_presets_advance_by_their_span(client, start, preset, end):
    client.post("/_sandbox/clock", json={"now": start, "freeze": True})
    response = _clock(client, action="advance", preset=preset)
    assert response.status_code == 200 and response.json == {"now": end, "frozen": True}
    assert client.get("/_sandbox/clock").json == {"now": end, "frozen": True}


def test_the_clock_freezes_thaws_and_resets(client):
    client.post("/_sandbox/clock", json={"now": "2030-01-01T00:00:00.000Z", "freeze": False})
    assert _clock(client, action="freeze").json["frozen"] is True
    assert client.get("/_sandbox/clock").json["frozen"] is True
    assert _clock(client, action="unfreeze").json["frozen"] is False
    reset = _clock(client, action="reset").json
    assert reset["frozen"] is False and reset["now"] < "2030-01-01"


@pytest.mark.parametrize("body", [{"action": "rewind"}, {"action": "advance", "preset": "fortnight"}, {}])
def test_an_unknown_clock_action_changes_nothing(client, body):
    frozen = client.post("/_sandbox/clock", json={"now": "2025-06-02T13:00:00.000Z", "freeze": True}).json
    response = _clock(client, **body)
    assert response.status_code == 400 and response.json["code"] == "SANDBOX_INVALID_REQUEST"
    assert client.get("/_sandbox/clock").json == frozen


def test_an_account_status_changes_from_the_page(client, tenant):
    url = f"{UI}/actions/accounts/{tenant.tenant_id}/{tenant.account_id}"
    response = client.post(url, json={"status": "BLOCKED"})
    assert response.status_code == 200 and response.json["status"] == "BLOCKED"
    [account] = client.get(f"/_sandbox/tenants/{tenant.tenant_id}/accounts").json["items"]
    assert account["status"] == "BLOCKED"
    refused = client.post(url, json={"status": "ASLEEP"})
    assert refused.status_code == 400
    assert client.get(f"/_sandbox/tenants/{tenant.tenant_id}/accounts").json["items"][0]["status"] == "BLOCKED"
    assert client.post(f"{UI}/actions/accounts/{tenant.tenant_id}/1", json={"status": "NORMAL"}).status_code == 404


def test_a_fault_rule_is_deleted_from_the_page(client):
    rule = client.post(f"{UI}/actions/faults", json={"action": {"type": "status", "status": 503}}).json
    assert client.delete(f"{UI}/actions/faults/{rule['id']}").status_code == 204
    assert client.get("/_sandbox/faults").json["items"] == []
    assert client.delete(f"{UI}/actions/faults/{rule['id']}").status_code == 404


# -- the form's rules are taken exactly as POST /_sandbox/faults takes them -------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 700),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "GET", "post", "x", "/banking-auth/*", "before", "after", "fixed", "uniform"]),
)
_match = st.dictionaries(
    st.sampled_from(["operation_id", "method", "path", "tenant_id", "account_id", "host"]), _scalars, max_size=3
)
_action = st.dictionaries(
    st.sampled_from(
        ["type", "status", "body", "ms", "distribution", "min_ms", "max_ms", "median_ms", "sigma", "cap_ms", "colour"]
    ),
    st.one_of(
        _scalars, st.sampled_from(["status", "delay", "timeout", "reset", "empty", "malformed"]), st.just({"code": "X"})
    ),
    max_size=4,
)
_schedule = st.dictionaries(st.sampled_from(["nth", "times", "probability", "seed", "every"]), _scalars, max_size=3)
_rules = st.one_of(
    st.fixed_dictionaries(
        {"action": _action},
        optional={
            "match": _match,
            "phase": _scalars,
            "schedule": _schedule,
            "description": _scalars,
            "extra": _scalars,
        },
    ),
    st.fixed_dictionaries(
        {
            "action": st.fixed_dictionaries(
                {"type": st.sampled_from(["status", "delay", "timeout"])},
                optional={"status": st.integers(300, 700), "ms": st.integers(-1, 700_000)},
            )
        },
        optional={"match": _match, "schedule": _schedule},
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rule=_rules)
@example(rule={"action": {"type": "reset", "status": None}})  # null is not absent: both refuse it
@example(rule={"action": {"type": "delay", "ms": 5, "min_ms": None}, "description": None})
@example(rule={"action": {"type": "status", "status": 400}, "schedule": {"nth": 9.223372036854776e18}})  # 2**63
@example(rule={"action": {"type": "status", "status": 400}, "schedule": {"seed": -9.223372036854776e18}})  # -2**63
@example(rule={"action": {"type": "status", "status": 400}, "match": {"account_id": 2**63}})
def test_the_fault_form_accepts_exactly_what_the_admin_api_accepts(client, rule):
    from_api = client.post("/_sandbox/faults", json=rule)
    from_page = client.post(f"{UI}/actions/faults", json=rule)
    assert (from_page.status_code == 201) == (from_api.status_code == 201), (from_api.json, from_page.json)
    if from_api.status_code == 201:
        strip = ("id", "created_at")
        assert {k: v for k, v in from_page.json.items() if k not in strip} == {
            k: v for k, v in from_api.json.items() if k not in strip
        }
    else:
        assert from_page.status_code == 400
    client.delete("/_sandbox/faults")
