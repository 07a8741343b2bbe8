"""Log formats: the default text lines, or one JSON object per line (PISMO_SANDBOX_LOG_FORMAT=json)
for log collectors. The same format is given to the simulator's loggers (the access log, contract
violations, bugs) and, when served, to gunicorn's own."""

from __future__ import annotations

import logging
import os
import select
import time
from collections.abc import Sequence
from typing import IO
from datetime import datetime, UTC

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has: anything else on a record came through ``extra=`` (the access
# log's method, path, status, ...) and becomes a field of its own.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, RFC 3339), level, logger, message, pid, the
    record's ``extra`` fields, and the traceback (``exc``) if there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "INFO", log_format: str = "text", stream: IO[str] | None = None) -> None:
    """The simulator's log (one access line per request, contract violations, bugs) on
    ``stream`` (stderr unless given), unless it already has a handler.

    Process-wide, so called by the entry points that own the process (serving, the CLI's
    in-process contract run), never by the app factory."""
    # What no format here prints is not collected per record (the logging HOWTO's "Optimization"
    # settings): the caller's frame and the multiprocessing name. Thread and process ids stay
    # (gunicorn's own format prints the pid).
    logging._srcfile = None
    logging.logMultiprocessing = False
    logger = logging.getLogger("pismo_sandbox")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter(log_format))
        logger.addHandler(handler)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def gunicorn_options(log_format: str) -> dict:
    """gunicorn settings that give its own logs the format (none for the default text)."""
    if log_format != "json":
        return {}
    return {
        "logconfig_dict": {
            "root": {"level": "WARNING", "handlers": []},
            "loggers": {
                "gunicorn.error": {
                    "level": "INFO",
                    "handlers": ["error_console"],
                    "propagate": False,
                    "qualname": "gunicorn.error",
                },
                "gunicorn.access": {
                    "level": "INFO",
                    "handlers": ["console"],
                    "propagate": False,
                    "qualname": "gunicorn.access",
                },
            },
            "formatters": {"generic": {"()": "pismo_sandbox.logs.JsonFormatter"}},
        }
    }


# The most bytes a write to a pipe is sure to write whole, never mixed with other writers' (POSIX
# guarantees at least 512; Linux has 4 KiB).
PIPE_BUF = getattr(select, "PIPE_BUF", 512)

# One access line: when the answer left (time.time()), method, path, status, duration in ms, cid,
# operationId, verdict, tenant, fault rule.
AccessFields = tuple[float, str, str, int, float, str | None, str | None, str, str | None, str | None]


class AccessLog:
    """The access log's line per request.

    With the default text format and the plain stream handlers create_app sets up, the line is
    formatted here (exactly as ``logging.Formatter(TEXT_FORMAT)`` would) and written straight to
    the handlers' streams, without a ``LogRecord`` per request. Any other set-up on the way to the
    root logger (the JSON format, a filter, another kind of handler such as a test's capture)
    gets a record through ``logging`` as before, with the fields as ``extra``.

    Lines are written several at a time, each with its answer's time (``write_many``): the
    request journal's writer thread writes the plain lines of the requests it journals with their
    rows (gateway.journal), so such a request makes no write(2) of its own.
    """

    def __init__(self, logger: logging.Logger):
        self.logger = logger
        self._stamp: tuple[int, str] = (-1, "")

    def plain(self) -> bool:
        """Whether a line written now would go only to plain text handlers, so that it may as
        well be written a little later, with others, by ``write_many``. False when the log is
        off (its level is decided now, not when the line would be written), and when something
        on the way wants a LogRecord per line (the JSON format, a filter, a test's capture),
        which it gets when the request is answered."""
        return self.logger.isEnabledFor(logging.INFO) and _plain_handlers(self.logger) is not None

    def write_many(self, lines: Sequence[AccessFields]) -> None:
        """Lines of requests answered at the times they carry, in order: to each plain handler
        with a file descriptor in as few write(2) calls as whole lines allow (at most PIPE_BUF
        bytes each, so that lines of several processes sharing a pipe never interleave within a
        line), through ``logging`` otherwise."""
        logger = self.logger
        if not lines or not logger.isEnabledFor(logging.INFO):
            return
        handlers = _plain_handlers(logger)
        if handlers is None:  # someone needs a record: the JSON format writes each field
            for line in lines:
                self._record(line)
            return
        if not handlers:
            return
        name = logger.name
        text = [
            f"{self._asctime(when)} INFO {name}: {method} {path} {status} {duration_ms:.1f}ms"
            f" cid={cid} op={operation_id} verdict={verdict}"
            for when, method, path, status, duration_ms, cid, operation_id, verdict, _tenant, _rule in lines
        ]
        for handler in handlers:
            try:
                fd = _fd_of(handler.stream)
                if fd is not None:
                    # Whole lines, no lock: no thread waits for another's write, or for the
                    # interpreter lock while holding the handler's (a convoy under load).
                    encoding = getattr(handler.stream, "encoding", None) or "utf-8"
                    ending = handler.terminator
                    _write_lines(fd, [(formatted + ending).encode(encoding, "backslashreplace") for formatted in text])
                    continue
                handler.acquire()
                try:
                    for formatted in text:
                        handler.stream.write(formatted + handler.terminator)
                    handler.flush()
                finally:
                    handler.release()
            except Exception:  # as StreamHandler.emit: a broken stream never fails the request
                pass

    def _record(self, line: AccessFields) -> None:
        """The line as a LogRecord with its fields as ``extra`` (logged now: the record's time)."""
        _when, method, path, status, duration_ms, cid, operation_id, verdict, tenant_id, fault_rule = line
        self.logger.info(
            "%s %s %s %.1fms cid=%s op=%s verdict=%s",
            method,
            path,
            status,
            duration_ms,
            cid,
            operation_id,
            verdict,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(duration_ms, 1),
                "cid": cid,
                "operation_id": operation_id,
                "verdict": verdict,
                "tenant_id": tenant_id,
                "fault_rule": fault_rule,
            },
        )

    def _asctime(self, now: float) -> str:
        """``logging.Formatter``'s default time: local time, comma, milliseconds. The second's
        text is kept with its second in one tuple, swapped whole: threads writing lines of
        different seconds at once never pair one's second with the other's text."""
        second = int(now)
        stamp = self._stamp
        if stamp[0] != second:
            stamp = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second)))
            self._stamp = stamp
        return f"{stamp[1]},{int((now - second) * 1000):03d}"


def _write_lines(fd: int, lines: list[bytes]) -> None:
    """Write whole lines to ``fd``: several a call, at most PIPE_BUF bytes a call unless one line
    is longer, each call finished before the next (a short write is carried on)."""
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        if chunk and size + len(line) > PIPE_BUF:
            _write_all(fd, b"".join(chunk))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line)
    if chunk:
        _write_all(fd, b"".join(chunk))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fd_of(stream: object) -> int | None:
    """The file descriptor under a stream whose own buffer is empty between records (a stream
    handler flushes after each one), None for a stream with no descriptor (a test's capture)."""
    try:
        return stream.fileno()  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both of the last two
        return None


def _plain_handlers(logger: logging.Logger) -> list[logging.StreamHandler] | None:
    """The handlers an INFO record of ``logger`` would reach, if every one of them is a plain
    stream handler with the default text format and no filter; None otherwise."""
    found = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            formatter = handler.formatter
            if (
                type(handler) is not logging.StreamHandler
                or handler.filters
                or formatter is None
                or type(formatter) is not logging.Formatter
                or formatter._fmt != TEXT_FORMAT
                or formatter.datefmt is not None
                or formatter.converter is not time.localtime
            ):
                return None
            if handler.level <= logging.INFO:
                found.append(handler)
        current = current.parent if current.propagate else None
    return found
