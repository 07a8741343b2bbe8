"""The bench's in-process replay logs as a served worker does: its access lines take the plain
path (no LogRecord per request), so the in-process figure is the request's own work as served."""

from __future__ import annotations

import gc
import logging

from bench.run import _inprocess_app
from pismo_sandbox.logs import AccessLog


def test_the_in_process_app_writes_its_access_lines_as_served(tmp_path):
    logger = logging.getLogger("pismo_sandbox")
    saved = logger.handlers[:], logger.propagate, logger.level
    logger.handlers.clear()
    logger.propagate = False  # the walk to the handlers stops here, whatever the test run set up above
    try:
        _inprocess_app(str(tmp_path / "bench.db"))
        assert AccessLog(logging.getLogger("pismo_sandbox.access")).plain()
    finally:
        gc.unfreeze()
        for handler in logger.handlers:
            handler.close()
        logger.handlers[:], logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
