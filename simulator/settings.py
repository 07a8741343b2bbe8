"""Repository for the key/value settings table (virtual clock state and similar)."""

from __future__ import annotations

from simulator.store import Store


class SettingsRepository:
    def __init__(self, store: Store):
        self.store = store

    def get(self, key: str) -> str | None:
        rows = list(self.store.db.query("SELECT value FROM settings WHERE key = ?", [key]))
        return rows[0]["value"] if rows else None

    def get_many(self, prefix: str) -> dict[str, str]:
        rows = self.store.db.query("SELECT key, value FROM settings WHERE key LIKE ?", [prefix + "%"])
        return {row["key"]: row["value"] for row in rows}

    def put(self, key: str, value: str) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    def delete_prefix(self, prefix: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM settings WHERE key LIKE ?", [prefix + "%"])
