"""The access line: written preformatted to plain text handlers, through logging otherwise."""

from __future__ import annotations

import io
import logging
import re

import orjson
import pytest

from pismo_sandbox.logs import TEXT_FORMAT, AccessLog, JsonFormatter

FIELDS = dict(
    method="POST",
    path="/banking-auth/v1/credentials",
    status=201,
    duration_ms=3.14159,
    cid="cid-1",
    operation_id="upsertCredential",
    verdict="ok",
    tenant_id="t-1",
    fault_rule=None,
)


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
    child.info(
        "%s %s %s %.1fms cid=%s op=%s verdict=%s",
        "POST",
        "/banking-auth/v1/credentials",
        201,
        3.14159,
        "cid-1",
        "upsertCredential",
        "ok",
    )
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
    assert (entry["method"], entry["status"], entry["duration_ms"], entry["tenant_id"]) == ("POST", 201, 3.1, "t-1")


def test_nothing_is_written_below_the_logger_level(logger):
    parent, child = logger
    handler, out = _stream_handler(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    parent.setLevel(logging.WARNING)
    AccessLog(child).write(**FIELDS)
    assert out.getvalue() == ""


def test_lines_written_to_a_file_by_many_threads_come_out_whole_and_in_each_threads_order(logger, tmp_path):
    import threading

    parent, child = logger
    stream = open(tmp_path / "access.log", "w", encoding="utf-8")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    access = AccessLog(child)

    def writer(n: int) -> None:
        for i in range(150):
            access.write(**{**FIELDS, "path": f"/thread-{n}/é/{i}", "cid": f"c{n}-{i}"})
            if i % 50 == 0:
                child.warning("thread %d passed %d", n, i)  # a record through logging, between lines

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stream.close()
    lines = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    access_lines = [line for line in lines if " POST /thread-" in line]
    assert len(access_lines) == 8 * 150 and len(lines) == 8 * 150 + 8 * 3
    for n in range(8):
        mine = [line for line in access_lines if f" POST /thread-{n}/é/" in line]
        assert [int(line.split(f"/thread-{n}/é/")[1].split()[0]) for line in mine] == list(range(150))
        assert all(
            re.fullmatch(
                STAMP + rf" INFO {child.name}: POST /thread-{n}/é/\d+ 201 3.1ms cid=c{n}-\d+"
                r" op=upsertCredential verdict=ok",
                line,
            )
            for line in mine
        )
