"""The journal limit holds within its stated tolerance: at least the newest ``limit`` rows,
at most ``limit + prune_step(limit) - 1`` (never more than 10% over)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.unit.journal_rows import journal_row
from pismo_sandbox.gateway.journal import JournalRepository, prune_step
from pismo_sandbox.store import JOURNAL_MIGRATIONS, Store, journal_path


def _entry(n: int) -> dict:
    return journal_row(f"c-{n}")


def _seqs(store: Store) -> list[int]:
    return [row["seq"] for row in store.db.query("SELECT seq FROM journal ORDER BY seq")]


@pytest.fixture(scope="module")
def journal_store(tmp_path_factory):
    store = Store(journal_path(str(tmp_path_factory.mktemp("journal") / "sandbox.db")), migrations=JOURNAL_MIGRATIONS)
    store.migrate()
    return store


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(limit=st.integers(1, 400), written=st.integers(0, 1500))
def test_the_journal_keeps_its_newest_rows_within_the_stated_tolerance(journal_store, limit, written):
    journal = JournalRepository(journal_store, limit)
    journal.clear()
    for n in range(written):
        journal.append(_entry(n))
        if n % 97 == 0 or n == written - 1:  # the bound holds all along, not only at the end
            journal.flush()
            seqs = _seqs(journal_store)
            assert min(n + 1, limit) <= len(seqs) <= limit + prune_step(limit) - 1
            assert len(seqs) <= limit * 1.1 or len(seqs) < limit + 1  # never more than 10% over
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # the newest, none missing


def test_a_small_limit_is_not_overshot_fourfold(journal_store):
    journal = JournalRepository(journal_store, 50)
    journal.clear()
    counts = []
    for n in range(1000):
        journal.append(_entry(n))
        journal.flush()
        counts.append(len(_seqs(journal_store)))
    assert max(counts[50:]) <= 54 and min(counts[50:]) >= 50


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(limit=st.integers(1, 300), batches=st.lists(st.integers(1, 120), max_size=25))
def test_the_tolerance_holds_whatever_the_batches_commit_together(journal_store, limit, batches):
    """The writer thread commits whatever queued up meanwhile: any split into batches keeps
    every committed state within the bound, with the newest rows and none missing."""
    journal = JournalRepository(journal_store, limit)
    journal.clear()
    n = 0
    for size in batches:
        journal._write([_entry(n + i) for i in range(size)])
        n += size
        seqs = _seqs(journal_store)
        assert min(n, limit) <= len(seqs) <= limit + prune_step(limit) - 1
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else n == 0
