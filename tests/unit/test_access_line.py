"""The access line: written preformatted to plain text handlers, through logging otherwise."""

from __future__ import annotations

import io
import logging
import re

import orjson
import pytest

from pismo_sandbox.logs import TEXT_FORMAT, AccessLog, JsonFormatter

FIELDS = dict(method="POST", path="/banking-auth/v1/credentials", status=201, duration_ms=3.14159,
              cid="cid-1", operation_id="upsertCredential", verdict="ok", tenant_id="t-1", fault_rule=None)


@pytest.fixture
def logger(request):
    parent = logging.getLogger(f"ab-test-{request.node.name}")
    parent.propagate = False  # away from pytest's capture on the root logger
    parent.setLevel(logging.INFO)
    child = logging.getLogger(parent.name + ".access")
    yield parent, child
    parent.handlers.clear()
    child.filters.clear()


def _stream_handler(formatter: logging.Formatter) -> tuple[logging.StreamHandler, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    return handler, out


STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"


def test_the_preformatted_line_is_the_line_logging_would_write(logger):
    parent, child = logger
    handler, out = _stream_handler(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    AccessLog(child).write(**FIELDS)
    child.info("%s %s %s %.1fms cid=%s op=%s verdict=%s", "POST", "/banking-auth/v1/credentials", 201,
               3.14159, "cid-1", "upsertCredential", "ok")
    fast, slow = out.getvalue().splitlines()
    assert re.fullmatch(STAMP + r" INFO .*", fast)
    assert re.sub(STAMP, "T", fast) == re.sub(STAMP, "T", slow)


def test_a_filter_on_the_way_gets_a_record_with_the_fields(logger):
    parent, child = logger
    handler, out = _stream_handler(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    seen = []
    child.addFilter(lambda record: seen.append(record) or True)
    AccessLog(child).write(**FIELDS)
    assert [r.status for r in seen] == [201] and seen[0].operation_id == "upsertCredential"
    assert "POST /banking-auth/v1/credentials 201 3.1ms cid=cid-1" in out.getvalue()


def test_the_json_format_writes_each_field(logger):
    parent, child = logger
    handler, out = _stream_handler(JsonFormatter())
    parent.addHandler(handler)
    AccessLog(child).write(**FIELDS)
    entry = orjson.loads(out.getvalue())
    assert (entry["method"], entry["status"], entry["duration_ms"], entry["tenant_id"]) == (
        "POST", 201, 3.1, "t-1")


def test_nothing_is_written_below_the_logger_level(logger):
    parent, child = logger
    handler, out = _stream_handler(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    parent.setLevel(logging.WARNING)
    AccessLog(child).write(**FIELDS)
    assert out.getvalue() == ""
