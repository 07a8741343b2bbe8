"""The journal, served by two workers: rows are written by each worker's writer thread, yet a
read through /_sandbox/journal right after an answer finds its row, whichever worker answered
and whichever reads; a worker stopped normally commits what it had queued."""

from __future__ import annotations

import os
import sqlite3
import uuid
from datetime import datetime

import pytest
import requests

from pismo_sandbox.store import journal_path

pytestmark = pytest.mark.slow


def _journaled(server, cid: str) -> list[dict]:
    # A fresh connection each time: the kernel hands it to either worker.
    return requests.get(f"{server.url}/_sandbox/journal", params={"cid": cid}, timeout=10).json()["items"]


def test_every_answer_is_in_the_journal_right_after_it_from_either_worker(serve, tmp_path):
    server = serve(workers=2)
    misses = []
    for n in range(150):
        cid = f"served-{n}-{uuid.uuid4().hex[:8]}"
        answered = requests.post(f"{server.url}/_sandbox/tenants", json={}, headers={"x-cid": cid}, timeout=10)
        assert answered.status_code == 201
        rows = _journaled(server, cid)
        if [(r["cid"], r["status"]) for r in rows] != [(cid, 201)]:
            misses.append((cid, rows))
    writers = os.listdir(journal_path(str(tmp_path / "served.db")) + ".writers")
    assert misses == []
    assert len(writers) == 2  # both workers answered (and journaled) some of the requests


def test_a_worker_stopped_normally_commits_what_it_had_queued(serve, tmp_path):
    server = serve(workers=2)
    cids = [f"stop-{n}-{uuid.uuid4().hex[:8]}" for n in range(40)]
    for cid in cids:
        requests.get(f"{server.url}/_sandbox/health", headers={"x-cid": cid}, timeout=10)
    server.stop()
    with sqlite3.connect(journal_path(str(tmp_path / "served.db"))) as db:
        found = {row[0] for row in db.execute("SELECT cid FROM journal")}
    assert set(cids) <= found


def test_rows_carry_when_their_answer_left_and_are_listed_newest_answer_first(serve):
    server = serve(workers=2)
    run = uuid.uuid4().hex[:8]
    for n in range(40):  # fresh connections: both workers answer, and commit in batches of their own
        requests.post(f"{server.url}/_sandbox/tenants", json={}, headers={"x-cid": f"order-{run}-{n}"}, timeout=10)
    rows = [
        r
        for r in requests.get(f"{server.url}/_sandbox/journal", params={"limit": 200}, timeout=10).json()["items"]
        if r["cid"] and r["cid"].startswith(f"order-{run}-")
    ]
    assert len(rows) == 40
    # sent one after another, so answered in the order sent: the listing is that order reversed
    assert [r["cid"] for r in rows] == [f"order-{run}-{n}" for n in reversed(range(40))]
    instants = [datetime.fromisoformat(r["answered_at"].replace("Z", "+00:00")) for r in rows]
    assert instants == sorted(instants, reverse=True)
    assert all(
        r["answered_at"].endswith("Z") and len(r["answered_at"]) == len("2026-12-04T20:00:00.123456Z") for r in rows
    )
