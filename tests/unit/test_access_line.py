"""The access line: written preformatted to plain text handlers, through logging otherwise."""

from __future__ import annotations

import io
import logging
import os
import re
import time

import orjson
import pytest

from pismo_sandbox.logs import PIPE_BUF, TEXT_FORMAT, AccessLog, JsonFormatter

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


def _write(access: AccessLog, **fields: object) -> None:
    """One line, of a request answered now (its fields in FIELDS' order)."""
    access.write_many([(time.time(), *fields.values())])  # type: ignore[list-item]


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
    _write(AccessLog(child), **FIELDS)
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
    _write(AccessLog(child), **FIELDS)
    assert [r.status for r in seen] == [201] and seen[0].operation_id == "upsertCredential"
    assert "POST /banking-auth/v1/credentials 201 3.1ms cid=cid-1" in out.getvalue()


def test_the_json_format_writes_each_field(logger):
    parent, child = logger
    handler, out = _stream_handler(JsonFormatter())
    parent.addHandler(handler)
    _write(AccessLog(child), **FIELDS)
    entry = orjson.loads(out.getvalue())
    assert (entry["method"], entry["status"], entry["duration_ms"], entry["tenant_id"]) == ("POST", 201, 3.1, "t-1")


def test_nothing_is_written_below_the_logger_level(logger):
    parent, child = logger
    handler, out = _stream_handler(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    parent.setLevel(logging.WARNING)
    _write(AccessLog(child), **FIELDS)
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
            _write(access, **{**FIELDS, "path": f"/thread-{n}/é/{i}", "cid": f"c{n}-{i}"})
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


def _file_handler(parent: logging.Logger, path) -> logging.StreamHandler:
    """``parent``'s one handler: a plain stream to a file. (pytest attaches its capture handlers
    to non-propagating loggers too, and those need a record per line.)"""
    parent.handlers.clear()
    handler = logging.StreamHandler(open(path, "w", encoding="utf-8"))
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    parent.addHandler(handler)
    return handler


def _line(when: float, n: int) -> tuple:
    return (when, "POST", f"/lines/{n}", 201, 1.25, f"c-{n}", "upsertCredential", "ok", "t-1", None)


def test_lines_written_together_keep_their_order_and_each_its_own_answer_time(logger, tmp_path):
    parent, child = logger
    handler = _file_handler(parent, tmp_path / "access.log")
    answered = [1_700_000_000.25, 1_700_000_001.5, 1_700_003_600.999]
    AccessLog(child).write_many([_line(when, n) for n, when in enumerate(answered)])
    handler.stream.close()
    lines = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    expected = [
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(when))) + f",{int((when - int(when)) * 1000):03d}"
        for when in answered
    ]
    assert [line.split(" INFO ")[0] for line in lines] == expected
    assert [line.split(" INFO ")[1] for line in lines] == [
        f"{child.name}: POST /lines/{n} 201 1.2ms cid=c-{n} op=upsertCredential verdict=ok" for n in range(3)
    ]


def test_many_lines_go_out_in_few_writes_of_whole_lines_no_longer_than_a_pipe_writes_at_once(
    logger, tmp_path, monkeypatch
):
    parent, child = logger
    handler = _file_handler(parent, tmp_path / "access.log")
    writes: list[bytes] = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(bytes(data)) or real_write(fd, data))
    AccessLog(child).write_many([_line(1_700_000_000.0, n) for n in range(300)])
    handler.stream.close()
    text = (tmp_path / "access.log").read_text(encoding="utf-8")
    assert text.count("\n") == 300 and b"".join(writes).decode() == text
    assert 1 < len(writes) < 300 / 10  # several lines a write
    assert all(len(chunk) <= PIPE_BUF and chunk.endswith(b"\n") for chunk in writes)


def test_whether_a_line_may_wait_is_decided_by_the_log_as_it_is_when_the_request_is_answered(logger, tmp_path):
    parent, child = logger
    _file_handler(parent, tmp_path / "access.log")
    access = AccessLog(child)
    assert access.plain()
    child.setLevel(logging.WARNING)  # the log is off: nothing is to be written later either
    assert not access.plain()
    child.setLevel(logging.NOTSET)
    child.addFilter(lambda record: True)  # a filter needs a record per line, now
    assert not access.plain()
