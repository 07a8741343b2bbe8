"""A delay means the same in a request fault rule and in a delivery fault rule: one schema of
delay parameters, so both accept, refuse and read a delay alike."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from pismo_sandbox.domains.deliveries.schemas import load_rule as load_delivery_rule
from pismo_sandbox.faults.engine import delay_for
from pismo_sandbox.faults.rules import load_rule as load_request_rule

NUMBERS = st.one_of(
    st.none(), st.integers(-5, 700_000), st.floats(-1, 700_000, allow_nan=False), st.just(5.5), st.just("5")
)
DELAYS = st.fixed_dictionaries(
    {"type": st.just("delay")},
    optional={
        "distribution": st.sampled_from(["fixed", "uniform", "lognormal", "gaussian"]),
        "ms": NUMBERS,
        "min_ms": NUMBERS,
        "max_ms": NUMBERS,
        "median_ms": NUMBERS,
        "sigma": st.one_of(NUMBERS, st.floats(0, 12)),
        "cap_ms": NUMBERS,
    },
)


def _verdict(load, action: dict) -> tuple[str, object]:
    """("ok", the loaded action) or ("refused", the error messages)."""
    try:
        return "ok", load({"action": action}).action
    except ValidationError as error:
        return "refused", error.messages


@settings(max_examples=150, deadline=None)
@given(DELAYS, st.integers(0, 2**31), st.integers(1, 50))
def test_both_kinds_of_rule_accept_refuse_and_draw_a_delay_alike(action, seed, n):
    request_verdict, request_outcome = _verdict(load_request_rule, action)
    delivery_verdict, delivery_outcome = _verdict(load_delivery_rule, action)

    assert request_verdict == delivery_verdict
    if request_verdict == "refused":
        assert request_outcome == delivery_outcome
    else:
        assert delay_for(request_outcome, seed, n) == delay_for(delivery_outcome.as_delay(), seed, n)


def test_a_uniform_delay_with_its_range_upside_down_is_refused_by_both_naming_min_ms():
    action = {"type": "delay", "distribution": "uniform", "min_ms": 900, "max_ms": 100}

    for load in (load_request_rule, load_delivery_rule):
        try:
            load({"action": action})
        except ValidationError as error:
            assert error.messages == {"action": {"min_ms": ["min_ms must not exceed max_ms"]}}
        else:
            raise AssertionError(f"{load.__module__} accepted an upside-down range")
