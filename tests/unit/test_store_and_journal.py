"""The store's plain reads, its sync level, and the journal's shared commits in a file of its own.

Reads run as bare SELECTs (no savepoint, no transaction left open); anything else keeps
sqlite-utils' guard. A journal row is readable through the journal as soon as ``append``
returns (a read first waits for what is queued), and none is lost or written twice when many
threads append at once.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from tests.unit.journal_rows import journal_row
from pismo_sandbox.gateway.journal import JournalRepository, answered_at
from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.store import JOURNAL_MIGRATIONS, MIGRATIONS, Store, journal_path


@pytest.fixture
def store(tmp_path):
    store = Store(str(tmp_path / "sandbox.db"))
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def journal_store(tmp_path):
    store = Store(journal_path(str(tmp_path / "sandbox.db")), migrations=JOURNAL_MIGRATIONS)
    store.migrate()
    yield store
    store.close()


def _statements(store: Store) -> list[str]:
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    return seen


def test_a_select_runs_bare_and_leaves_no_transaction_open(store):
    store.db.execute("INSERT INTO settings (key, value) VALUES ('a', '1'), ('b', '2')")
    seen = _statements(store)
    rows = list(store.db.query("SELECT key, value FROM settings WHERE key IN (?, ?) ORDER BY key", ["a", "b"]))
    assert rows == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    assert not any("SAVEPOINT" in s or "RELEASE" in s for s in seen), seen
    assert not store.db.conn.in_transaction


def test_a_select_inside_a_transaction_sees_its_uncommitted_writes(store):
    with store.transaction() as db:
        db.execute("INSERT INTO settings (key, value) VALUES ('pending', 'yes')")
        assert list(db.query("SELECT value FROM settings WHERE key = 'pending'")) == [{"value": "yes"}]
        assert db.conn.in_transaction


def test_a_statement_that_is_not_a_select_keeps_the_library_guard(store):
    seen = _statements(store)
    with pytest.raises(ValueError):
        store.db.query("UPDATE settings SET value = 'x'")  # returns no rows: refused, undone
    rows = list(store.db.query("INSERT INTO settings (key, value) VALUES ('r', '1') RETURNING key"))
    assert rows == [{"key": "r"}]
    assert any("SAVEPOINT" in s for s in seen)


def test_a_single_write_commits_by_itself_without_begin_and_commit(store, tmp_path):
    seen = _statements(store)
    store.write_one("INSERT INTO settings (key, value) VALUES (?, ?)", ["single", "1"])
    assert seen == ["INSERT INTO settings (key, value) VALUES ('single', '1')"]
    outside = sqlite3.connect(str(tmp_path / "sandbox.db"))  # another connection sees it at once
    assert outside.execute("SELECT value FROM settings WHERE key = 'single'").fetchone() == ("1",)
    outside.close()


def test_a_single_write_inside_a_transaction_is_undone_with_it(store):
    with pytest.raises(RuntimeError), store.transaction():
        store.write_one("INSERT INTO settings (key, value) VALUES (?, ?)", ["doomed", "1"])
        raise RuntimeError("the rest of the transaction failed")
    assert list(store.db.query("SELECT key FROM settings WHERE key = 'doomed'")) == []


def test_the_active_bank_account_lookup_is_planned_on_its_partial_index_before_binding(store):
    from pismo_sandbox.domains.bank_accounts.repository import BankAccountRepository

    sql = BankAccountRepository.FIND_ACTIVE
    plan = store.db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?")).fetchall()
    assert "USING INDEX bank_accounts_one_active" in " ".join(str(row[-1]) for row in plan)


def _synchronous(store: Store) -> int:
    return store.db.conn.execute("PRAGMA synchronous").fetchone()[0]


def test_commits_are_not_synced_unless_configured(tmp_path):
    assert _synchronous(Store(str(tmp_path / "a.db"))) == 0  # OFF
    assert _synchronous(Store(str(tmp_path / "b.db"), "full")) == 2
    configured = build_sandbox(Config.from_env({"PISMO_SANDBOX_SYNCHRONOUS": "NORMAL"}, db_path=str(tmp_path / "c.db")))
    assert _synchronous(configured.store) == 1
    assert _synchronous(configured.journal.store) == 1


def test_an_unknown_sync_level_is_refused(tmp_path):
    with pytest.raises(ValueError, match="synchronous must be one of"):
        Store(str(tmp_path / "a.db"), "SOMETIMES")
    with pytest.raises(ValueError, match="PISMO_SANDBOX_SYNCHRONOUS: must be one of"):
        Config.from_env({"PISMO_SANDBOX_SYNCHRONOUS": "sometimes"})


def test_the_command_line_names_a_bad_setting_without_a_traceback(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from pismo_sandbox.cli import main

    monkeypatch.setenv("PISMO_SANDBOX_SYNCHRONOUS", "SOMETIMES")
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "PISMO_SANDBOX_SYNCHRONOUS: must be one of OFF, NORMAL, FULL, EXTRA" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.db").exists()


def test_a_commit_survives_the_process_dying_right_after_it(tmp_path):
    path = str(tmp_path / "sandbox.db")
    Store(path).migrate()
    child = textwrap.dedent(f"""
        import os
        from pismo_sandbox.store import Store
        store = Store({path!r})
        with store.transaction() as db:
            db.execute("INSERT INTO settings (key, value) VALUES ('survivor', 'yes')")
        os._exit(9)  # no close, no checkpoint, no clean shutdown
    """)
    assert subprocess.run([sys.executable, "-c", child]).returncode == 9
    reopened = Store(path)
    assert list(reopened.db.query("SELECT value FROM settings WHERE key = 'survivor'")) == [{"value": "yes"}]


def _entry(thread: int, n: int) -> dict:
    return journal_row(f"t{thread}-{n}")


def test_every_journal_row_is_readable_when_append_returns_even_under_concurrency(journal_store):
    journal = JournalRepository(journal_store, limit=100_000)
    threads, per_thread = 16, 60
    missing: list[str] = []
    start = threading.Barrier(threads)

    def worker(index: int) -> None:
        start.wait()
        for n in range(per_thread):
            entry = _entry(index, n)
            journal.append(entry)
            if [row["cid"] for row in journal.recent(cid=entry["cid"])] != [entry["cid"]]:
                missing.append(entry["cid"])

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert missing == []
    counts = next(journal_store.db.query("SELECT COUNT(*) AS n, COUNT(DISTINCT cid) AS d FROM journal"))
    assert counts == {"n": threads * per_thread, "d": threads * per_thread}


def test_rows_queued_together_are_committed_in_one_transaction(journal_store):
    journal = JournalRepository(journal_store, limit=100_000)
    commits = []
    real_write = journal._write
    journal.writer._write = lambda batch: (commits.append(len(batch)), real_write(batch))
    with journal.writer._cond:  # the writer thread cannot take the queue meanwhile
        for n in range(5):
            journal.writer._queue.append(_entry(7, n))
            journal.writer._queued += 1
        if journal.writer._thread is None:
            journal.writer._start()
    journal.flush()
    assert commits == [5]
    assert sorted(row["cid"] for row in journal.recent(cid=None)[:5]) == [f"t7-{n}" for n in range(5)]


def test_the_journal_keeps_only_its_limit_of_recent_rows(journal_store):
    journal = JournalRepository(journal_store, limit=300)
    for n in range(1_000):
        journal.append(_entry(0, n))
    journal.flush()
    rows = next(journal_store.db.query("SELECT MIN(seq) AS low, MAX(seq) AS high FROM journal"))
    assert rows["high"] == 1_000
    assert 300 <= rows["high"] - rows["low"] + 1 < 300 + 500  # pruned every 500 rows, to the limit


def test_rows_are_listed_in_the_order_their_answers_left_not_the_order_they_were_committed(journal_store):
    # Two workers' writer threads can commit out of answer order under load: here "first" (the
    # newer answer) is committed before "second".
    journal = JournalRepository(journal_store, limit=100)
    journal.append(journal_row("newer", answered=2_000))
    journal.append(journal_row("older", answered=1_000))

    assert [row["cid"] for row in journal.recent()] == ["newer", "older"]
    assert [row["cid"] for row in journal.recent(after=0)] == ["newer", "older"]
    assert all("answered" not in row for row in journal.recent())


def test_rows_of_a_journal_from_before_the_answer_order_follow_by_seq(tmp_path):
    path = str(tmp_path / "old.journal.db")
    old = Store(path, migrations=JOURNAL_MIGRATIONS[:1])
    old.migrate()
    for cid in ("old-1", "old-2"):
        old.db["journal"].insert({k: v for k, v in journal_row(cid).items() if k != "answered"})
    old.close()
    journal = JournalRepository(Store(path, migrations=JOURNAL_MIGRATIONS), limit=100)
    journal.store.migrate()
    journal.append(journal_row("new"))

    assert [row["cid"] for row in journal.recent()] == ["new", "old-2", "old-1"]


def test_a_failed_journal_write_is_logged_and_later_rows_are_written(journal_store, monkeypatch, caplog):
    journal = JournalRepository(journal_store, limit=100_000)
    real_write, calls = journal._write, []

    def fail_first(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("disk full")
        real_write(batch)

    journal.writer._write = fail_first
    with caplog.at_level("WARNING", logger="pismo_sandbox.access"):
        journal.append(_entry(0, 0) | {"cid": "lost"})  # the answer stands: append raises nothing
        journal.flush()
        journal.append(_entry(0, 0) | {"cid": "kept"})
        cids = [row["cid"] for row in journal.recent(cid=None) if row["cid"] in ("lost", "kept")]
    assert cids == ["kept"]
    assert "journal row of GET /x dropped: disk full" in caplog.text


def test_journal_commits_do_not_wait_for_the_state_write_lock(tmp_path):
    sandbox = build_sandbox(Config(db_path=str(tmp_path / "sandbox.db")))
    done = threading.Event()

    def request_finishing() -> None:
        sandbox.journal.append(_entry(0, 0))
        done.set()

    with sandbox.store.transaction():  # a long state write holds the lock (thread and file)
        threading.Thread(target=request_finishing).start()
        assert done.wait(10), "the journal row waited for the state's write lock"
    assert [row["cid"] for row in sandbox.journal.recent()] == ["t0-0"]
    assert sandbox.journal.store.path == str(tmp_path / "sandbox.journal.db")


def test_an_existing_database_moves_to_a_journal_file_of_its_own(tmp_path):
    path = str(tmp_path / "old.db")
    names = [name for name, _sql in MIGRATIONS]
    before = Store(path, migrations=MIGRATIONS[: names.index("0013_journal_in_its_own_file")])  # before the move
    before.migrate()
    assert "journal" in before.db.table_names()
    before.close()
    upgraded = build_sandbox(Config(db_path=path))
    assert "journal" not in upgraded.store.db.table_names()
    assert set(upgraded.journal.store.db.table_names()) - {"sqlite_sequence"} == {"_migrations", "journal"}
    upgraded.journal.append(_entry(0, 1))
    assert [row["cid"] for row in upgraded.journal.recent()] == ["t0-1"]


def test_an_answer_time_is_printed_to_the_microsecond_in_utc():
    assert answered_at(1_764_878_400_123_456_789) == "2025-12-04T20:00:00.123456Z"
    assert answered_at(1_764_878_400_000_000_999) == "2025-12-04T20:00:00.000000Z"


def test_a_journaled_requests_access_line_is_written_with_its_row_by_the_writer_thread(
    journal_store, tmp_path, monkeypatch
):
    from pismo_sandbox.gateway import journal as journal_module
    from pismo_sandbox.logs import TEXT_FORMAT, AccessLog

    log = logging.getLogger("journal-lines-test")
    log.propagate = False
    log.handlers.clear()  # pytest's capture handlers need a record per line: a plain stream only
    handler = logging.StreamHandler(open(tmp_path / "access.log", "w", encoding="utf-8"))
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    monkeypatch.setattr(journal_module, "access_line", AccessLog(log))
    written_by: list[str] = []
    real_write_many = journal_module.access_line.write_many
    monkeypatch.setattr(
        journal_module.access_line,
        "write_many",
        lambda lines: (written_by.append(threading.current_thread().name), real_write_many(lines)),
    )
    journal = JournalRepository(journal_store, limit=1_000)
    for n in range(3):
        entry = _entry(0, n) | {"method": "POST", "path": f"/x/{n}", "status": 201, "duration_ms": 2.0}
        entry[journal_module.WITH_LINE] = True
        journal.append(entry)
    journal.append(_entry(0, 3))  # a row without a line (as the JSON format's rows are)
    journal.flush()
    handler.close()
    lines = (tmp_path / "access.log").read_text(encoding="utf-8").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        f"POST /x/{n} 201 2.0ms cid=t0-{n} op=None verdict=ok" for n in range(3)
    ]
    assert written_by and all(name != threading.current_thread().name for name in written_by)
    assert sorted(row["cid"] for row in journal.recent()) == ["t0-0", "t0-1", "t0-2", "t0-3"]
    log.handlers.clear()
