"""The writer lock is waited for within a bound: a writer behind a stalled holder gives up with
WriterLockTimeout (answered 503/504 by the gateway) and logs who holds the lock; the lock is
taken as soon as the holder lets go."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from tests.unit.journal_rows import journal_row
from pismo_sandbox.store import Store, WriterLockTimeout


@pytest.fixture
def path(tmp_path) -> str:
    path = str(tmp_path / "sandbox.db")
    Store(path).migrate()
    return path


def test_a_writer_behind_a_stalled_holder_gives_up_and_names_it(path, caplog):
    holder, waiter = Store(path), Store(path, lock_timeout=1)  # two open files: as two processes
    with holder.transaction(), caplog.at_level(logging.ERROR, logger="pismo_sandbox"):
        with pytest.raises(WriterLockTimeout):
            with waiter.transaction() as db:
                db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    assert f"held by process {os.getpid()}, which has stalled" in caplog.text
    assert list(waiter.db.query("SELECT * FROM settings WHERE key = 'x'")) == []
    with waiter.transaction() as db:  # the holder let go: the lock is free again
        db.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
    assert [r["value"] for r in holder.db.query("SELECT value FROM settings WHERE key = 'x'")] == ["1"]


def test_a_thread_behind_a_stalled_thread_of_its_process_gives_up(path):
    store = Store(path, lock_timeout=1)
    entered, release = threading.Event(), threading.Event()

    def hold():
        with store.transaction():
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    try:
        with pytest.raises(WriterLockTimeout):
            store.write_one("INSERT INTO settings (key, value) VALUES ('y', '1')")
    finally:
        release.set()
        holder.join(10)
    store.write_one("INSERT INTO settings (key, value) VALUES ('y', '1')")
    assert [r["value"] for r in store.db.query("SELECT value FROM settings WHERE key = 'y'")] == ["1"]


def test_a_holder_that_kept_the_lock_past_the_bound_says_so_when_it_lets_go(path, caplog, monkeypatch):
    store = Store(path, lock_timeout=1)
    ticks = iter(range(0, 1000, 5))  # every reading of the clock is 5 s after the one before
    monkeypatch.setattr("pismo_sandbox.store.time.monotonic", lambda: float(next(ticks)))
    with caplog.at_level(logging.WARNING, logger="pismo_sandbox"), store.transaction():
        pass
    assert f"process {os.getpid()} held the writer lock" in caplog.text and "5.0 s" in caplog.text


def test_a_journal_row_behind_a_stalled_holder_is_dropped_and_the_answer_stands(tmp_path, caplog):
    from pismo_sandbox.gateway.journal import JournalRepository
    from pismo_sandbox.store import JOURNAL_MIGRATIONS, journal_path

    path = journal_path(str(tmp_path / "sandbox.db"))
    Store(path, migrations=JOURNAL_MIGRATIONS).migrate()
    holder = Store(path, migrations=JOURNAL_MIGRATIONS)
    journal = JournalRepository(Store(path, migrations=JOURNAL_MIGRATIONS, lock_timeout=1), limit=100)
    row = journal_row("c-1", method="POST", status=201)
    with holder.transaction(), caplog.at_level(logging.WARNING, logger="pismo_sandbox.access"):
        journal.append(row)  # returns: the request's answer is not turned into an error
        journal.writer.flush()  # the writer thread tried, waited out the bound, gave up
    assert "journal row of POST /x dropped" in caplog.text
    assert journal.recent() == []
    journal.append(row)
    assert [r["cid"] for r in journal.recent()] == ["c-1"]
