"""Change counters shared by every process on a database, and the cache one keeps valid.

A worker may keep what it read from the database only while nothing it depends on changed in
any worker. Each topic (the settings table; the reference data below) has a count of committed
changes in a small memory-mapped file next to the database, ``<db>.<topic>-changes``: a writer
bumps it after its commit (``Store.changed``), a reader reads it before the table. Reading a
count is a memory read, no SQL.

``ReferenceCache`` keeps the reads every bank-slip request repeats and that change only through
the admin API or a credential: accounts, the tenant's bank-slip provider, the charge scenarios.
An entry serves only while the ``reference`` count is the one read before it was loaded.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Hashable
from typing import Any

SETTINGS = "settings"  # the settings table (runtime_settings)
# accounts, credentials, bankslip_providers, bankslip_scenarios: every write to them marks it
REFERENCE = "reference"

_COUNTER = struct.Struct("<Q")


class ChangeCounter:
    """A count of committed changes to one topic, shared by every process that opens the same
    database: 8 bytes of ``<db>.<topic>-changes``, memory-mapped (for an in-memory database, a
    process-local count)."""

    def __init__(self, db_path: str, topic: str) -> None:
        self._map: bytearray | mmap.mmap
        if db_path == ":memory:":
            self._map = bytearray(_COUNTER.size)
            return
        fd = os.open(f"{db_path}.{topic}-changes", os.O_RDWR | os.O_CREAT, 0o600)
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
        # leave every entry loaded before the later commit with an older count.
        _COUNTER.pack_into(self._map, 0, self.value() + 1)


class ReferenceCache:
    """Values loaded from the database, each kept with the count read before loading it."""

    LIMIT = 1_000  # entries at most (then it starts again empty): a few hundred KB

    def __init__(self, counter: ChangeCounter) -> None:
        self.counter = counter
        self._entries: dict[Hashable, tuple[int, Any]] = {}

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        seen = self.counter.value()  # before the table: a later change bumps it again
        entry = self._entries.get(key)
        if entry is not None and entry[0] == seen:
            return entry[1]
        value = load()
        if len(self._entries) >= self.LIMIT:
            self._entries = {}
        self._entries[key] = (seen, value)
        return value
