"""Fixtures of the delivery tests: local receivers, a worker driven round by round, and a
served sandbox that can be killed with SIGKILL."""

from __future__ import annotations


import pytest

from pismo_sandbox.domains.deliveries.worker import DeliveryWorker
from pismo_sandbox.core import EXTENSION
from pismo_sandbox.launcher import Sandbox, kill_group
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


class KillableSandbox(Sandbox):
    """`pismo-sandbox serve` through the launcher (in its own session), which kill() ends with
    SIGKILL to the whole group: nothing gets to clean up."""

    def __init__(self, db_path: str, workers: int = 2, **options):
        super().__init__(db_path=db_path, workers=workers, settings={"log_level": "WARNING"}, **options)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            kill_group(self.process)


@pytest.fixture
def killable(tmp_path):
    started: list[KillableSandbox] = []

    def make(db_path: str | None = None, **kwargs) -> KillableSandbox:
        started.append(KillableSandbox(db_path or str(tmp_path / "served.db"), **kwargs).start())
        return started[-1]

    yield make
    for server in started:
        server.close()
