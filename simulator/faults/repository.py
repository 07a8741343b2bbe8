"""SQL for fault rules and their counters (shared by every worker through the database)."""

from __future__ import annotations

import json

import sqlite_utils

from pismo_sandbox.store import Store


class FaultRepository:
    def __init__(self, store: Store):
        self.store = store

    def insert(self, db: sqlite_utils.Database, rule_id: str, rule: dict, created_at: str) -> None:
        db.execute(
            "INSERT INTO fault_rules (id, rule, matched, fired, created_at) VALUES (?, ?, 0, 0, ?)",
            [rule_id, json.dumps(rule, separators=(",", ":")), created_at],
        )

    def all(self, db: sqlite_utils.Database | None = None) -> list[dict]:
        db = db or self.store.db
        return [_row(r) for r in db.query("SELECT * FROM fault_rules ORDER BY position")]

    def live(self) -> list[dict]:
        """Rules that can still fire (their `times`, if any, not used up), in order."""
        return [
            _row(r)
            for r in self.store.db.query(
                "SELECT * FROM fault_rules WHERE json_extract(rule, '$.schedule.times') IS NULL"
                " OR fired < json_extract(rule, '$.schedule.times') ORDER BY position"
            )
        ]

    def get(self, rule_id: str, db: sqlite_utils.Database | None = None) -> dict | None:
        db = db or self.store.db
        rows = [_row(r) for r in db.query("SELECT * FROM fault_rules WHERE id = ?", [rule_id])]
        return rows[0] if rows else None

    def count(self, db: sqlite_utils.Database, rule_id: str, fired: bool) -> None:
        db.execute(
            "UPDATE fault_rules SET matched = matched + 1, fired = fired + ? WHERE id = ?", [1 if fired else 0, rule_id]
        )

    def delete(self, rule_id: str, db: sqlite_utils.Database) -> bool:
        return db.execute("DELETE FROM fault_rules WHERE id = ?", [rule_id]).rowcount > 0

    def delete_all(self, db: sqlite_utils.Database) -> int:
        return db.execute("DELETE FROM fault_rules").rowcount


def _row(row: dict) -> dict:
    return {**row, "rule": json.loads(row["rule"])}
