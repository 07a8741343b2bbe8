"""Serving: gunicorn (threaded workers) running create_app, one app per worker after fork."""

from __future__ import annotations

import gc
import logging
import sys
import threading

from gunicorn.app.base import BaseApplication

from simulator.config import Config
from simulator.gateway.faults import SocketFaultNoise


def freeze_start_up_objects(_worker=None) -> None:
    """Once a worker has built its app: what start-up made (the contract, compiled validators,
    schemas) lives as long as the worker, so full collections stop re-scanning it. Measured
    in-process, full collections cost a pay request about 40 us on average; frozen, about 5.
    (The app is built in each worker, not before the fork, so this is not about copy-on-write.)"""
    gc.collect()
    gc.freeze()


def ready_worker(_worker=None) -> threading.Thread:
    """Once a worker has built its app: freeze what start-up made, then load openapi-core in the
    background while the worker already serves (a request that needs it first waits for it).
    Returns the loading thread."""
    freeze_start_up_objects()
    warm_up = threading.Thread(target=_warm_contract, name="contract-warm-up", daemon=True)
    warm_up.start()
    return warm_up


def _warm_contract() -> None:
    from simulator.contract import load_contract

    load_contract().warm()
    freeze_start_up_objects()  # openapi-core's objects live as long as the worker too


class SandboxServer(BaseApplication):
    def __init__(self, config: Config, host: str, port: int, workers: int, threads: int):
        self.sandbox_config = config
        self.options = {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 120,
            "graceful_timeout": 5,
            "preload_app": False,  # each worker opens its own database connections
            "accesslog": None,
            "post_worker_init": ready_worker,
            "loglevel": config.log_level.lower(),
            "when_ready": lambda _arbiter: print(
                f"pismo-sandbox listening on http://{host}:{port} (database: {config.db_path})",
                file=sys.stderr, flush=True),
        }
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from simulator.app import create_app
        return create_app(self.sandbox_config)


def serve(config: Config, host: str = "127.0.0.1", port: int = 8080, workers: int = 2,
          threads: int = 8) -> None:
    """Run until interrupted (one worker for ``:memory:`` or seeded ids)."""
    if config.db_path == ":memory:" or config.id_seed is not None:
        # An in-memory database lives in one process; seeded ids repeat only in one process
        # (two workers with one seed would draw the same ids).
        workers = 1
    from simulator.app import build_services
    from simulator.faults.files import read_rules

    # Migrate (and load --faults) once before forking; the connection is closed again.
    sandbox = build_services(config)
    if config.faults_file:
        rules = sandbox.faults.replace_all(read_rules(config.faults_file))
        print(f"pismo-sandbox: {len(rules)} fault rule(s) loaded from {config.faults_file}",
              file=sys.stderr, flush=True)
    sandbox.close()
    logging.getLogger("gunicorn.error").addFilter(SocketFaultNoise())
    SandboxServer(config, host, port, workers, threads).run()
