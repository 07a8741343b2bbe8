"""The canonical text an idempotency key's fingerprint is taken over: one text per meaning, and
the same text as before its fast paths, so a key recorded by an older sandbox still matches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.idempotency import canonical_json, request_fingerprint


def reference_text(value: Any) -> str:
    """The canonical text as first written (one json.dumps per string, Decimal for every number)."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k)) + ":" + reference_text(value[k]) for k in sorted(value, key=str)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(reference_text(v) for v in value) + "]"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number.is_finite() else json.dumps(str(number))
    if isinstance(value, (datetime, date)):
        return json.dumps(value.isoformat())
    return json.dumps(str(value))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.builds(lambda n, sign: n * sign, st.integers(10**28 - 50, 10**28 + 50), st.sampled_from([1, -1]))
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.decimals(allow_nan=False)
    | st.text()
    | st.dates()
    | st.datetimes(timezones=st.just(UTC))
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=8) | st.integers(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_the_canonical_text_is_the_one_first_written(value: Any) -> None:
    assert canonical_json(value) == reference_text(value)


def test_a_number_reads_the_same_however_it_is_spelled() -> None:
    key = Fingerprinter(b"k" * 32)
    assert request_fingerprint(key, "pay", {"amount": 100, "to": "ção"}) == request_fingerprint(
        key, "pay", {"to": "ção", "amount": 100.0}
    )
    assert request_fingerprint(key, "pay", {"amount": 100}) != request_fingerprint(key, "pay", {"amount": 100.01})


def test_strings_are_escaped_as_json_dumps_escapes_them() -> None:
    assert canonical_json({"é": 'a\u2028"\\\n\x00'}) == '{"\\u00e9":"a\\u2028\\"\\\\\\n\\u0000"}'
