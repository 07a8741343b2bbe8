"""The gateway's header rules on open-ended values: UTF-8 text comes back as the client wrote it,
and a control character is always refused, whatever surrounds it."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from pismo_sandbox.errors import SandboxError
from pismo_sandbox.gateway.header_rules import MAX_FIELD_BYTES, MAX_FIELDS, check

PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=300)


@given(PRINTABLE)
def test_a_utf8_value_is_read_as_the_text_the_client_wrote(text):
    environ = {"HTTP_X_IDEMPOTENCY_KEY": text.encode("utf-8").decode("latin-1")}
    check(environ)
    assert environ["HTTP_X_IDEMPOTENCY_KEY"] == text


@given(st.binary(max_size=200).filter(lambda b: not any((c < 0x20 and c != 9) or c == 0x7F for c in b)))
def test_a_value_that_is_not_utf8_is_kept_as_it_came(raw):
    value = raw.decode("latin-1")
    environ = {"HTTP_X_NOTE": value}
    check(environ)
    try:
        assert environ["HTTP_X_NOTE"] == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert environ["HTTP_X_NOTE"] == value


@given(PRINTABLE, st.sampled_from([chr(c) for c in [*range(9), *range(10, 32), 127]]), PRINTABLE)
def test_a_control_character_anywhere_is_400(before, control, after):
    with pytest.raises(SandboxError) as refused:
        check({"HTTP_X_NOTE": before + control + after})
    assert (refused.value.status, refused.value.code) == (400, "GATEWAY_400")


def test_the_limits_are_inclusive():
    at_limit = {f"HTTP_X_{i}": "v" for i in range(MAX_FIELDS)}
    check(at_limit)
    with pytest.raises(SandboxError) as refused:
        check({**at_limit, "HTTP_X_ONE_MORE": "v"})
    assert refused.value.status == 431
    longest = "v" * (MAX_FIELD_BYTES - len("x-note: "))
    check({"HTTP_X_NOTE": longest})
    with pytest.raises(SandboxError):
        check({"HTTP_X_NOTE": longest + "v"})
