"""Serving: gunicorn (threaded workers) running create_app, one app per worker after fork.

What only a start that goes ahead needs (the gateway, the served HTTP rules) is imported when it
does: the command line imports this module before it checks the options, and a start-up mistake
is then answered without loading them."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, NoReturn

from pismo_sandbox import background, logs
from pismo_sandbox.config import Config
from pismo_sandbox.gunicorn_app import GunicornApp, served_options

log = logging.getLogger("pismo_sandbox")

if TYPE_CHECKING:
    from flask import Flask
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker


def freeze_start_up_objects(_worker: Worker | None = None) -> None:
    """Once a worker has built its app: what start-up made (the contract, compiled validators,
    schemas) lives as long as the worker, so full collections stop re-scanning it. Measured
    in-process, full collections cost a pay request about 40 us on average; frozen, about 5.
    (The app is built in each worker, not before the fork, so this is not about copy-on-write.)"""
    gc.collect()
    gc.freeze()


def ready_worker(_worker: Worker | None = None) -> threading.Thread:
    """Once a worker has built its app: load openapi-core in the background while the worker
    already serves (a request that needs it first waits for it), then freeze what start-up and
    the loading made, in one collection. Returns the loading thread.

    (Loading it once in the master before the fork instead saved about 1 s of CPU per two-worker
    start, and cost 0.5 to 0.6 s more to the first answer: measured on 2026-12-03, start-up
    stays the one that counts.)"""
    return background.start(_warm_contract, "contract-warmup")


def _warm_contract() -> None:
    from pismo_sandbox.contract.operations import load_contract

    started = time.thread_time()
    try:
        load_contract().warm()
        log.debug("openapi-core loaded and validators compiled in %.2f s of CPU", time.thread_time() - started)
    finally:
        freeze_start_up_objects()


def _reachable(host: str) -> str:
    """The host a receiver on this machine reaches the server at (a wildcard bind is loopback)."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class SandboxServer(GunicornApp):
    def __init__(self, config: Config, host: str, port: int, workers: int, threads: int):
        from pismo_sandbox.contract.operations import load_contract  # built once already, before the fork
        from pismo_sandbox.served_http import header_options

        self.sandbox_config = config
        # what subscriptions made before binding call the sandbox when it is asked for a free port
        self.free_port_base = (
            f"http://{_reachable(host)}:0" if port == 0 and (config.subscribe or config.state_file) else None
        )
        super().__init__(
            {
                **served_options(host, port, workers, threads),
                **header_options(load_contract().documents.values()),
                "post_worker_init": ready_worker if config.warm_up else freeze_start_up_objects,
                "loglevel": config.log_level.lower(),
                **logs.gunicorn_options(config.log_format),
                "when_ready": self._announce,
            },
            self._create_app,
        )

    def _announce(self, arbiter: Arbiter) -> None:
        """Once gunicorn has bound its socket: the URL actually served on (the real port when
        asked for port 0), as one line on stdout, for whoever started the sandbox."""
        url = served_url(arbiter)
        if self.free_port_base and self.sandbox_config.db_path != ":memory:":
            from pismo_sandbox.domains.deliveries.wiring import served_at

            served_at(self.sandbox_config, self.free_port_base, url)
        print(url, flush=True)
        print(
            f"pismo-sandbox listening on {url} (database: {self.sandbox_config.db_path})", file=sys.stderr, flush=True
        )

    def _create_app(self) -> Flask:
        from pismo_sandbox.app import create_app
        from pismo_sandbox.domains.deliveries.wiring import start_worker
        from pismo_sandbox.core import EXTENSION

        app = create_app(self.sandbox_config)
        start_worker(app.extensions[EXTENSION])  # this worker's event-delivery thread
        return app


def served_url(arbiter: Arbiter) -> str:
    """http://HOST:PORT of the first socket gunicorn listens on."""
    host, port = arbiter.LISTENERS[0].sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def serve(config: Config, host: str = "127.0.0.1", port: int = 8080, workers: int = 2, threads: int = 8) -> None:
    """Run until interrupted (one worker for ``:memory:`` or seeded ids)."""
    if config.db_path == ":memory:" or config.id_seed is not None:
        # An in-memory database lives in one process; seeded ids repeat only in one process
        # (two workers with one seed would draw the same ids).
        workers = 1
    from pismo_sandbox.app import build_sandbox
    from pismo_sandbox.faults.files import read_rules
    from pismo_sandbox.gateway import origin
    from pismo_sandbox.gateway.faults import SocketFaultNoise

    warning = origin.exposure_warning(host, config.admin_token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    config = origin.with_bound_host(config, host)  # requests naming the bound address are served

    logs.configure(config.log_level, config.log_format)  # the workers inherit it at the fork

    # Migrate (and load --faults) once before forking; the connection is closed again.
    sandbox = build_sandbox(config)
    if config.faults_file:
        rules = sandbox.faults.replace_all(read_rules(config.faults_file))
        print(
            f"pismo-sandbox: {len(rules)} fault rule(s) loaded from {config.faults_file}", file=sys.stderr, flush=True
        )
    if config.state_file:
        from pismo_sandbox.state import apply_state, read_state

        applied = apply_state(
            sandbox, read_state(config.state_file), config.state_file, public_base=f"http://{_reachable(host)}:{port}"
        )
        print(f"pismo-sandbox: state file {config.state_file}: {applied.summary()}", file=sys.stderr, flush=True)
    from pismo_sandbox.domains.deliveries.wiring import prepare

    for line in prepare(sandbox, config, f"http://{_reachable(host)}:{port}"):
        print(f"pismo-sandbox: {line}", file=sys.stderr, flush=True)
    sandbox.close()
    logging.getLogger("gunicorn.error").addFilter(SocketFaultNoise())
    try:
        SandboxServer(config, host, port, workers, threads).run()
    except SystemExit as stop:  # the master when it stops, and each worker (forked in run) when it ends
        exit_without_teardown(stop.code)


def exit_without_teardown(code: object) -> NoReturn:
    """End this process once its exit handlers have run (a worker's journal writer commits what it
    queued there) and its output is flushed, skipping the interpreter's teardown of every module
    and object: measured at 0.3 to 1 s of CPU for a master or worker that loaded the contract."""
    atexit._run_exitfuncs()
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
