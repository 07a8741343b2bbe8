"""Serving: gunicorn (threaded workers) running create_app, one app per worker after fork."""

from __future__ import annotations

import gc
import logging
import sys
import threading

from pismo_sandbox.config import Config
from pismo_sandbox.gateway.faults import SocketFaultNoise
from pismo_sandbox.gunicorn_app import GunicornApp, served_options


def freeze_start_up_objects(_worker=None) -> None:
    """Once a worker has built its app: what start-up made (the contract, compiled validators,
    schemas) lives as long as the worker, so full collections stop re-scanning it. Measured
    in-process, full collections cost a pay request about 40 us on average; frozen, about 5.
    (The app is built in each worker, not before the fork, so this is not about copy-on-write.)"""
    gc.collect()
    gc.freeze()


def ready_worker(_worker=None) -> threading.Thread:
    """Once a worker has built its app: load openapi-core in the background while the worker
    already serves (a request that needs it first waits for it), then freeze what start-up and
    the loading made, in one collection. Returns the loading thread."""
    warm_up = threading.Thread(target=_warm_contract, name="contract-warm-up", daemon=True)
    warm_up.start()
    return warm_up


def _warm_contract() -> None:
    from pismo_sandbox.contract import load_contract

    try:
        load_contract().warm()
    finally:
        freeze_start_up_objects()


class SandboxServer(GunicornApp):
    def __init__(self, config: Config, host: str, port: int, workers: int, threads: int):
        self.sandbox_config = config
        super().__init__({
            **served_options(host, port, workers, threads),
            "post_worker_init": ready_worker,
            "loglevel": config.log_level.lower(),
            "when_ready": lambda _arbiter: print(
                f"pismo-sandbox listening on http://{host}:{port} (database: {config.db_path})",
                file=sys.stderr, flush=True),
        }, self._create_app)

    def _create_app(self):
        from pismo_sandbox.app import create_app
        return create_app(self.sandbox_config)


def serve(config: Config, host: str = "127.0.0.1", port: int = 8080, workers: int = 2,
          threads: int = 8) -> None:
    """Run until interrupted (one worker for ``:memory:`` or seeded ids)."""
    if config.db_path == ":memory:" or config.id_seed is not None:
        # An in-memory database lives in one process; seeded ids repeat only in one process
        # (two workers with one seed would draw the same ids).
        workers = 1
    from pismo_sandbox.app import build_services
    from pismo_sandbox.faults.files import read_rules
    from pismo_sandbox.gateway import origin

    warning = origin.exposure_warning(host, config.admin_token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    config = origin.with_bound_host(config, host)  # requests naming the bound address are served

    # Migrate (and load --faults) once before forking; the connection is closed again.
    sandbox = build_services(config)
    if config.faults_file:
        rules = sandbox.faults.replace_all(read_rules(config.faults_file))
        print(f"pismo-sandbox: {len(rules)} fault rule(s) loaded from {config.faults_file}",
              file=sys.stderr, flush=True)
    sandbox.close()
    logging.getLogger("gunicorn.error").addFilter(SocketFaultNoise())
    SandboxServer(config, host, port, workers, threads).run()
