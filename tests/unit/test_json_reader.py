"""The JSON reader's fast path (orjson) gives exactly what the standard library gives: same
values, same types, integers of any width kept exact (a property over generated documents)."""

from __future__ import annotations

import json

from flask import Flask
from hypothesis import given, settings, strategies as st

from pismo_sandbox.jsonio import OrjsonProvider

READER = OrjsonProvider(Flask("reader"))

numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-(2**62)),
    st.floats(allow_nan=False, allow_infinity=False),
)
documents = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30)),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def _typed(value):
    """The value with every number tagged by its type (1 == 1.0 must not pass for equal)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, 1]))
def test_the_fast_reader_reads_every_document_as_the_standard_library_does(document, indent):
    text = json.dumps(document, indent=indent)
    assert _typed(READER.loads(text)) == _typed(json.loads(text))
    assert _typed(READER.loads(text.encode())) == _typed(json.loads(text))


def test_an_integer_past_64_bits_is_read_exactly_wherever_it_sits():
    wide = 10**30
    for text in (f"{wide}", f"[1, {wide}]", f'{{"a": {{"b": [{-wide}]}}}}', f" {wide} "):
        value = READER.loads(text)
        assert _typed(value) == _typed(json.loads(text))
