"""The app factory has no process-wide side effects: logging is set up by the entry points."""

from __future__ import annotations

import logging

from pismo_sandbox import logs
from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config


def test_building_an_app_leaves_the_logging_module_as_it_found_it(tmp_path):
    logger = logging.getLogger("pismo_sandbox")
    before = (logger.level, list(logger.handlers), logging._srcfile, logging.logMultiprocessing)
    create_app(Config(db_path=str(tmp_path / "sandbox.db"), log_level="DEBUG", log_format="json"))
    assert (logger.level, list(logger.handlers), logging._srcfile, logging.logMultiprocessing) == before


def test_the_entry_points_configuration_gives_the_simulator_log_its_level_and_format(monkeypatch):
    logger = logging.getLogger("pismo_sandbox")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "level", logger.level)
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)
    monkeypatch.setattr(logging, "logMultiprocessing", logging.logMultiprocessing)
    logs.configure("debug", "json")
    assert logger.level == logging.DEBUG
    [handler] = logger.handlers
    assert isinstance(handler.formatter, logs.JsonFormatter)
