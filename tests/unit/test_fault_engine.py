"""The fault engine's pure parts: matching, schedules, deterministic draws, delay distributions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from pismo_sandbox.faults.engine import RequestFacts, delay_for, draw, fires, matches
from pismo_sandbox.faults.rules import Match, load_rule

FACTS = RequestFacts(
    operation_id="post-credentials", method="POST", path="/banking-auth/v1/credentials", tenant_id="TN-a", account_id=7
)


def _rule(schedule=None, action=None):
    return load_rule({"action": action or {"type": "status", "status": 502}, "schedule": schedule or {}})


def _simulate(rule, requests: int) -> list[int]:
    """Which of `requests` matching requests (1-based) fire, counting as the engine does."""
    fired, out = 0, []
    for n in range(1, requests + 1):
        if fires(rule, n, fired):
            fired += 1
            out.append(n)
    return out


@settings(max_examples=200)
@given(nth=st.integers(1, 30), times=st.integers(1, 30), total=st.integers(0, 80))
def test_nth_and_times_fire_exactly_that_window(nth, times, total):
    rule = _rule({"nth": nth, "times": times})
    assert _simulate(rule, total) == list(range(nth, min(nth + times - 1, total) + 1))


def test_without_times_a_rule_fires_from_nth_on():
    assert _simulate(_rule({"nth": 3}), 6) == [3, 4, 5, 6]


@settings(max_examples=50)
@given(seed=st.integers(0, 2**31), p=st.floats(0.05, 0.95))
def test_same_seed_same_sequence(seed, p):
    rule = _rule({"probability": p, "seed": seed})
    assert _simulate(rule, 300) == _simulate(rule, 300)


def test_probability_is_roughly_honoured_and_seeds_differ():
    a = _simulate(_rule({"probability": 0.3, "seed": 1}), 2000)
    b = _simulate(_rule({"probability": 0.3, "seed": 2}), 2000)
    assert 500 < len(a) < 700 and a != b


def test_draws_do_not_depend_on_the_process():
    # random.Random seeded with a str hashes it with SHA-512, not Python's per-process hash,
    # so a fresh interpreter (with another PYTHONHASHSEED) draws the same numbers.
    import subprocess
    import sys

    code = "from pismo_sandbox.faults.engine import draw; print(repr([draw(7, n) for n in range(1, 6)]))"
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {repr([draw(7, n) for n in range(1, 6)]) + "\n"}


@pytest.mark.parametrize(
    "match,expected",
    [
        ({}, True),
        ({"operation_id": "post-credentials"}, True),
        ({"operation_id": "post-integrated-payments-api-v1-bankslips-pay"}, False),
        ({"method": "post"}, True),
        ({"method": "GET"}, False),
        ({"path": "/banking-auth/*"}, True),
        ({"path": "/intl-bankaccounts/*"}, False),
        ({"tenant_id": "TN-a", "account_id": 7}, True),
        ({"tenant_id": "TN-a", "account_id": 8}, False),
    ],
)
def test_every_given_match_field_must_agree(match, expected):
    rule = load_rule({"match": match, "action": {"type": "reset"}})
    assert matches(rule.match, FACTS) is expected


@settings(max_examples=100)
@given(lo=st.integers(0, 1000), span=st.integers(0, 1000), seed=st.integers(0, 1000), n=st.integers(1, 1000))
def test_uniform_delays_stay_within_bounds(lo, span, seed, n):
    action = load_rule(
        {"action": {"type": "delay", "distribution": "uniform", "min_ms": lo, "max_ms": lo + span}}
    ).action
    assert lo <= delay_for(action, seed, n) <= lo + span


@settings(max_examples=100)
@given(seed=st.integers(0, 1000), n=st.integers(1, 1000))
def test_lognormal_delays_are_capped(seed, n):
    action = load_rule(
        {"action": {"type": "delay", "distribution": "lognormal", "median_ms": 200, "sigma": 2.0, "cap_ms": 900}}
    ).action
    assert 0 <= delay_for(action, seed, n) <= 900


def test_lognormal_median_is_the_median():
    action = load_rule(
        {"action": {"type": "delay", "distribution": "lognormal", "median_ms": 100, "sigma": 0.5, "cap_ms": 100000}}
    ).action
    delays = sorted(delay_for(action, 3, n) for n in range(1, 2001))
    assert 90 <= delays[1000] <= 110


@pytest.mark.parametrize(
    "rule,field",
    [
        ({"action": {"type": "status"}}, "status"),
        ({"action": {"type": "timeout"}}, "ms"),
        ({"action": {"type": "delay", "distribution": "uniform", "min_ms": 5}}, "max_ms"),
        ({"action": {"type": "delay", "distribution": "uniform", "min_ms": 9, "max_ms": 5}}, "min_ms"),
        ({"action": {"type": "reset", "status": 502}}, "status"),
        ({"action": {"type": "explode"}}, "type"),
        ({"action": {"type": "reset"}, "phase": "during"}, "phase"),
        ({"action": {"type": "reset"}, "schedule": {"nth": 0}}, "nth"),
        ({"action": {"type": "reset"}, "schedule": {"probability": 1.5}}, "probability"),
        ({"action": {"type": "reset"}, "match": {"colour": "red"}}, "colour"),
    ],
)
def test_invalid_rules_are_refused_naming_the_field(rule, field):
    with pytest.raises(ValidationError) as raised:
        load_rule(rule)
    assert field in str(raised.value.messages)


def test_default_match_is_everything():
    assert load_rule({"action": {"type": "empty"}}).match == Match()
