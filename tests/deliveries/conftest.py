"""Fixtures of the delivery tests: local receivers, a worker driven round by round, and a
served sandbox that can be killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from pismo_sandbox.domains.deliveries.worker import DeliveryWorker
from pismo_sandbox.core import EXTENSION
from pismo_sandbox.launcher import free_port
from tests.deliveries.receiver import Receiver


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs).start())
        return made[-1]

    yield make
    for r in made:
        r.stop()


@pytest.fixture
def worker(app):
    """The app's delivery worker, run by the test (no thread): worker.run_until_idle()."""
    services = app.extensions[EXTENSION]
    made = DeliveryWorker(services.deliveries.outbox, catch_up=services.events.catch_up)
    yield made
    if made._http is not None:
        made._http.close()


class KillableSandbox:
    """`pismo-sandbox serve` in its own process group, so SIGKILL takes master and workers."""

    def __init__(self, db_path: str, workers: int = 2, extra_args: list[str] | None = None,
                 env: dict | None = None):
        self.db_path = db_path
        self.workers = workers
        self.extra_args = extra_args or []
        self.env = {**os.environ, "PISMO_SANDBOX_LOG_LEVEL": "WARNING", **(env or {})}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "KillableSandbox":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pismo_sandbox", "serve", "--port", str(self.port), "--db", self.db_path,
             "--workers", str(self.workers), *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if requests.get(self.url + "/_sandbox/health", timeout=5).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not listening, or still booting
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("server did not become healthy in time")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing gets to clean up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def killable(tmp_path):
    started: list[KillableSandbox] = []

    def make(db_path: str | None = None, **kwargs) -> KillableSandbox:
        started.append(KillableSandbox(db_path or str(tmp_path / "served.db"), **kwargs).start())
        return started[-1]

    yield make
    for server in started:
        server.stop()
