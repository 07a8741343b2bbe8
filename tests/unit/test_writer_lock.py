"""The writer lock is waited for within a bound: a writer behind a stalled holder gives up with
WriterLockTimeout (answered 503/504 by the gateway) and logs who holds the lock; the lock is
taken as soon as the holder lets go."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from pismo_sandbox.store import Store, WriterLockTimeout


@pytest.fixture
def path(tmp_path) -> str:
    path = str(tmp_path / "sandbox.db")
    Store(path).migrate()
    return path


def test_a_writer_behind_a_stalled_holder_gives_up_and_names_it(path, caplog):
    holder, waiter = Store(path), Store(path, lock_timeout=1)  # two open files: as two processes
    with holder.transaction():
        with caplog.at_level(logging.ERROR, logger="pismo_sandbox"):
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
    with caplog.at_level(logging.WARNING, logger="pismo_sandbox"):
        with store.transaction():
            pass
    assert f"process {os.getpid()} held the writer lock" in caplog.text and "5.0 s" in caplog.text
