"""Each served worker's own background threads carry their names for the operating system, so
`top -H`, `ps -T` and `make bench` tell them from gunicorn's request threads."""

from __future__ import annotations

import pathlib
import time

import pytest
import requests

from bench.servers import children

pytestmark = pytest.mark.slow


def _thread_names(pid: int) -> set[str]:
    names = set()
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            names.add((task / "comm").read_text().strip())
        except OSError:  # a thread that ended meanwhile
            continue
    return names


def test_every_worker_names_its_background_threads(served_sandbox):
    deadline = time.monotonic() + 30
    while True:
        # journaled requests: the worker that answers starts its journal writer
        for _ in range(10):
            requests.post(f"{served_sandbox.base_url}/banking-auth/v1/credentials", json={}, timeout=10)
        workers = children(served_sandbox.process.pid)
        names = {pid: _thread_names(pid) for pid in workers}
        done = (
            len(workers) == 2
            and all("event-delivery" in found for found in names.values())
            and any("journal-writer" in found for found in names.values())
        )
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(workers) == 2, names
    assert all("event-delivery" in found for found in names.values()), names
    assert any("journal-writer" in found for found in names.values()), names
