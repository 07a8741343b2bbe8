"""Repository for the key/value settings table: the virtual clock's state, and version
counters that let workers cache derived state (fault rules, known tenants) safely.

A request takes a snapshot of the whole (small) table (`pin`) and every lookup during that
request is answered from it; a write through this repository refreshes it. The snapshot is read
again only when the table changed: every commit that writes it bumps a counter shared by every
process on the database (`ChangeCounter`, a memory-mapped file next to it), bumped after the
commit and read before the table, so a change made by another worker is seen by the next request.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading

import sqlite_utils

from pismo_sandbox.store import GENERATION, Store


_COUNTER = struct.Struct("<Q")


class ChangeCounter:
    """A count of committed changes to the settings table, shared by every process that opens
    the same database: 8 bytes of ``<db>.settings-changes``, memory-mapped (for an in-memory
    database, a process-local count). Reading it is a memory read, no SQL."""

    def __init__(self, db_path: str) -> None:
        self._map: bytearray | mmap.mmap
        if db_path == ":memory:":
            self._map = bytearray(_COUNTER.size)
            return
        fd = os.open(db_path + ".settings-changes", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _COUNTER.size:
                os.ftruncate(fd, _COUNTER.size)  # extends with zeros; never shrinks a count
            self._map = mmap.mmap(fd, _COUNTER.size)
        finally:
            os.close(fd)

    def value(self) -> int:
        return _COUNTER.unpack_from(self._map)[0]

    def bump(self) -> None:
        # Not atomic across processes, and need not be: a writer bumps after its commit, a
        # reader reads the count before the table, so two bumps racing to the same value still
        # leave every snapshot taken before the later commit with an older count.
        _COUNTER.pack_into(self._map, 0, self.value() + 1)


class SettingsRepository:
    def __init__(self, store: Store):
        self.store = store
        self._pinned = threading.local()
        self.changes = ChangeCounter(store.path)
        store.on_settings_commit = self.changes.bump

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
            self.store.settings_changed()
        self._refresh()

    def delete_prefix(self, prefix: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM settings WHERE key LIKE ?", [prefix + "%"])
            self.store.settings_changed()
        self._refresh()

    def bump(self, db: sqlite_utils.Database, key: str) -> None:
        """Increment a counter inside the caller's transaction."""
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE"
            " SET value = CAST(value AS INTEGER) + 1",
            [key],
        )
        self.store.settings_changed()
