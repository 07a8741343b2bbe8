"""Log formats: the default text lines, or one JSON object per line (PISMO_SANDBOX_LOG_FORMAT=json)
for log collectors. The same format is given to the simulator's loggers (the access log, contract
violations, bugs) and, when served, to gunicorn's own."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

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
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
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


def configure(level: str = "INFO", log_format: str = "text") -> None:
    """The simulator's log (one access line per request, contract violations, bugs) on stderr.

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
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(log_format))
        logger.addHandler(handler)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def gunicorn_options(log_format: str) -> dict:
    """gunicorn settings that give its own logs the format (none for the default text)."""
    if log_format != "json":
        return {}
    return {"logconfig_dict": {
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False,
                               "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
        "formatters": {"generic": {"()": "pismo_sandbox.logs.JsonFormatter"}},
    }}
