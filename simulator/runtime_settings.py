"""Repository for the key/value settings table: the virtual clock's state, and version
counters that let workers cache derived state (fault rules, known tenants) safely.

A request takes a snapshot of the whole (small) table (`pin`) and every lookup during that
request is answered from it; a write through this repository refreshes it. The snapshot is read
again only when the table changed: every commit that writes it bumps a counter shared by every
process on the database (change_counters.ChangeCounter, a memory-mapped file next to it), bumped
after the commit and read before the table, so a change made by another worker is seen by the next request.
"""

from __future__ import annotations

import threading

import sqlite_utils

from pismo_sandbox.change_counters import SETTINGS, ChangeCounter
from pismo_sandbox.store import GENERATION, Store


class SettingsRepository:
    def __init__(self, store: Store):
        self.store = store
        self._pinned = threading.local()
        self.changes = ChangeCounter(store.path, SETTINGS)
        store.on_commit[SETTINGS] = self.changes.bump

    # -- per-request snapshot --------------------------------------------------------------------
    def pin(self) -> None:
        pinned = self._pinned
        seen = self.changes.value()  # before the table: a later change bumps it again
        if getattr(pinned, "seen", None) != seen or pinned.snapshot is None:
            pinned.snapshot, pinned.seen = self._read_all(), seen
        pinned.values = pinned.snapshot

    def unpin(self) -> None:
        self._pinned.values = None

    def _values(self) -> dict[str, str]:
        values = getattr(self._pinned, "values", None)
        return values if values is not None else self._read_all()

    def _read_all(self) -> dict[str, str]:
        return dict(self.store.db.conn.execute("SELECT key, value FROM settings"))

    def _refresh(self) -> None:
        self._pinned.snapshot = None
        if getattr(self._pinned, "values", None) is not None:
            self.pin()

    # -- reads -----------------------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        return self._values().get(key)

    def get_many(self, prefix: str) -> dict[str, str]:
        return {k: v for k, v in self._values().items() if k.startswith(prefix)}

    def generation(self) -> int:
        """The state generation: bumped by every reset (store.wipe)."""
        return int(self._values().get(GENERATION, "0"))

    def version(self, key: str) -> tuple[str, str]:
        """A counter together with the state generation (bumped by every reset)."""
        values = self._values()
        return values.get(GENERATION, "0"), values.get(key, "0")

    # -- writes ----------------------------------------------------------------------------------
    def put(self, key: str, value: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            self.store.changed(SETTINGS)
        self._refresh()

    def delete_prefix(self, prefix: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM settings WHERE key LIKE ?", [prefix + "%"])
            self.store.changed(SETTINGS)
        self._refresh()

    def bump(self, db: sqlite_utils.Database, key: str) -> None:
        """Increment a counter inside the caller's transaction."""
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1",
            [key],
        )
        self.store.changed(SETTINGS)
