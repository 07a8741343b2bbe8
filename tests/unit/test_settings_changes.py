"""The per-request settings snapshot is re-read exactly when another writer changed the table."""

from __future__ import annotations

import threading

from pismo_sandbox.runtime_settings import SettingsRepository
from pismo_sandbox.store import Store


def _worker(path: str) -> SettingsRepository:
    store = Store(path)
    store.migrate()
    return SettingsRepository(store)


def test_a_change_committed_by_another_worker_is_seen_by_the_next_pin(tmp_path):
    path = str(tmp_path / "s.db")
    a, b = _worker(path), _worker(path)  # two workers: two stores, two counters on one file
    b.pin()
    assert b.get("clock.offset") is None
    a.put("clock.offset", "42")
    assert b.get("clock.offset") is None  # a pinned request keeps its snapshot
    b.pin()
    assert b.get("clock.offset") == "42"


def test_a_counter_bumped_inside_a_transaction_is_seen_after_its_commit(tmp_path):
    path = str(tmp_path / "s.db")
    a, b = _worker(path), _worker(path)
    b.pin()
    with a.store.transaction() as db:
        a.bump(db, "faults.version")
        b.pin()  # not committed yet: not visible
        assert b.get("faults.version") is None
    b.pin()
    assert b.get("faults.version") == "1"


def test_a_rolled_back_write_does_not_count_as_a_change(tmp_path):
    path = str(tmp_path / "s.db")
    a = _worker(path)
    before = a.changes.value()
    try:
        with a.store.transaction() as db:
            a.bump(db, "faults.version")
            raise RuntimeError("undo")
    except RuntimeError:
        pass
    assert a.changes.value() == before
    a.pin()
    assert a.get("faults.version") is None


def test_a_reset_is_seen_by_the_other_worker(tmp_path):
    path = str(tmp_path / "s.db")
    a, b = _worker(path), _worker(path)
    b.pin()
    generation = b.generation()
    a.store.wipe()
    b.pin()
    assert b.generation() == generation + 1


def test_another_thread_of_the_same_worker_sees_the_change(tmp_path):
    repo = _worker(str(tmp_path / "s.db"))
    repo.pin()
    assert repo.get("k") is None
    thread = threading.Thread(target=lambda: (repo.put("k", "v"), repo.store.close()))
    thread.start()
    thread.join()
    repo.pin()
    assert repo.get("k") == "v"


def test_an_unchanged_table_is_not_read_again(tmp_path):
    repo = _worker(str(tmp_path / "s.db"))
    statements = []
    repo.store.db.conn.set_trace_callback(statements.append)
    repo.pin()
    repo.pin()
    assert sum("FROM settings" in s for s in statements) == 1
