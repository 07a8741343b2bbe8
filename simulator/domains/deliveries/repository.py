"""SQL of event delivery: subscriptions and their cursors, the delivery outbox with its leases,
the attempt log, and the delivery fault rules with their counters."""

from __future__ import annotations

import json

import sqlite_utils

from pismo_sandbox.store import Store

DELIVERY_COLUMNS = (
    "delivery_id",
    "subscription_id",
    "kind",
    "event_seq",
    "event_id",
    "event_type",
    "copy",
    "status",
    "due_at",
    "ordinal",
    "fault_rule",
    "fault_action",
    "drops_left",
    "held_until",
    "created_at",
    "updated_at",
)


class DeliveryRepository:
    def __init__(self, store: Store):
        self.store = store

    def _db(self, db: sqlite_utils.Database | None) -> sqlite_utils.Database:
        return db or self.store.db

    # -- subscriptions ---------------------------------------------------------------------------
    def insert_subscription(self, db: sqlite_utils.Database, row: dict) -> None:
        db.execute(
            "INSERT INTO subscriptions (subscription_id, url, format, filter, secret, retry, status,"
            " confirm_token, public_base, cursor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row["subscription_id"],
                row["url"],
                row["format"],
                json.dumps(row["filter"]),
                row["secret"],
                json.dumps(row["retry"]),
                row["status"],
                row["confirm_token"],
                row["public_base"],
                row["cursor"],
                row["created_at"],
            ],
        )

    def subscriptions(self, db: sqlite_utils.Database | None = None) -> list[dict]:
        return [
            _subscription(r)
            for r in self._db(db).query("SELECT * FROM subscriptions ORDER BY created_at, subscription_id")
        ]

    def subscription(self, subscription_id: str, db: sqlite_utils.Database | None = None) -> dict | None:
        rows = [
            _subscription(r)
            for r in self._db(db).query("SELECT * FROM subscriptions WHERE subscription_id = ?", [subscription_id])
        ]
        return rows[0] if rows else None

    def delete_subscription(self, db: sqlite_utils.Database, subscription_id: str) -> bool:
        return db.execute("DELETE FROM subscriptions WHERE subscription_id = ?", [subscription_id]).rowcount > 0

    def replace_public_base(self, db: sqlite_utils.Database, old: str, new: str) -> int:
        return db.execute("UPDATE subscriptions SET public_base = ? WHERE public_base = ?", [new, old]).rowcount

    def activate(self, db: sqlite_utils.Database, subscription_id: str) -> None:
        db.execute("UPDATE subscriptions SET status = 'active' WHERE subscription_id = ?", [subscription_id])

    def move_cursor(self, db: sqlite_utils.Database, subscription_id: str, seq: int) -> None:
        db.execute("UPDATE subscriptions SET cursor = ? WHERE subscription_id = ?", [seq, subscription_id])

    def last_event_seq(self, db: sqlite_utils.Database | None = None) -> int:
        row = next(self._db(db).query("SELECT COALESCE(MAX(seq), 0) AS seq FROM events"))
        return row["seq"]

    def events_after(self, db: sqlite_utils.Database, seq: int, limit: int) -> list[dict]:
        return list(db.query("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]))

    def lagging(self, db: sqlite_utils.Database | None = None) -> bool:
        """Whether an active subscription has events it has not yet turned into deliveries."""
        row = next(
            self._db(db).query(
                "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE status = 'active'"
                " AND cursor < (SELECT COALESCE(MAX(seq), 0) FROM events)) AS lagging"
            )
        )
        return bool(row["lagging"])

    # -- the outbox -------------------------------------------------------------------------------
    def insert_delivery(self, db: sqlite_utils.Database, row: dict) -> None:
        db.execute(
            f"INSERT INTO deliveries ({', '.join(DELIVERY_COLUMNS)})"
            f" VALUES ({', '.join('?' for _ in DELIVERY_COLUMNS)})",
            [row.get(column) for column in DELIVERY_COLUMNS],
        )

    def held(self, db: sqlite_utils.Database, subscription_id: str, rule_id: str) -> list[dict]:
        return list(
            db.query(
                "SELECT * FROM deliveries WHERE status = 'held' AND subscription_id = ?"
                " AND fault_rule = ? ORDER BY seq",
                [subscription_id, rule_id],
            )
        )

    def expired_holds(self, db: sqlite_utils.Database, now: float) -> list[tuple[str, str]]:
        """(subscription, rule) of every held window whose oldest member waited long enough."""
        return [
            (r["subscription_id"], r["fault_rule"])
            for r in db.query(
                "SELECT DISTINCT subscription_id, fault_rule FROM deliveries WHERE status = 'held' AND held_until <= ?",
                [now],
            )
        ]

    def release(self, db: sqlite_utils.Database, delivery_ids: list[str], due_at: float, stamp: str) -> None:
        """Make held deliveries due now, to be sent in the order given."""
        for ordinal, delivery_id in enumerate(delivery_ids):
            db.execute(
                "UPDATE deliveries SET status = 'pending', due_at = ?, ordinal = ?, updated_at = ?"
                " WHERE delivery_id = ?",
                [due_at, ordinal, stamp, delivery_id],
            )

    def has_due(self, now: float, db: sqlite_utils.Database | None = None) -> bool:
        row = next(
            self._db(db).query(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE (status = 'pending' AND due_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?)) OR (status = 'held' AND held_until <= ?))"
                " AS due",
                [now, now, now],
            )
        )
        return bool(row["due"])

    def longest_timeout(self, db: sqlite_utils.Database, default: float) -> float:
        row = next(db.query("SELECT MAX(json_extract(retry, '$.timeout_seconds')) AS longest FROM subscriptions"))
        return row["longest"] or default

    def claim(self, db: sqlite_utils.Database, owner: str, now: float, lease_until: float, limit: int) -> list[str]:
        """Lease up to ``limit`` due deliveries to ``owner`` (inside the caller's write
        transaction, so two workers never lease the same one)."""
        ids = [
            r["delivery_id"]
            for r in db.query(
                "SELECT delivery_id FROM deliveries WHERE status = 'pending' AND due_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY due_at, ordinal, seq LIMIT ?",
                [now, now, limit],
            )
        ]
        for delivery_id in ids:
            db.execute(
                "UPDATE deliveries SET lease_owner = ?, lease_until = ? WHERE delivery_id = ?",
                [owner, lease_until, delivery_id],
            )
        return ids

    def for_sending(self, delivery_id: str, db: sqlite_utils.Database | None = None) -> dict | None:
        """The delivery with its subscription and (for an event) the event row."""
        rows = list(
            self._db(db).query(
                "SELECT d.*, s.url, s.format, s.secret, s.retry, s.public_base, s.confirm_token,"
                " e.org_id, e.domain, e.schema_version, e.cid, e.timestamp, e.data"
                " FROM deliveries d JOIN subscriptions s USING (subscription_id)"
                " LEFT JOIN events e ON e.seq = d.event_seq WHERE d.delivery_id = ?",
                [delivery_id],
            )
        )
        if not rows:
            return None
        row = rows[0]
        row["retry"] = json.loads(row["retry"])
        return row

    def add_attempt(self, db: sqlite_utils.Database, row: dict) -> None:
        db.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempt, attempted_at, outcome, http_status,"
            " error, latency_ms, fault_rule, fault_action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                row["delivery_id"],
                row["attempt"],
                row["attempted_at"],
                row["outcome"],
                row.get("http_status"),
                row.get("error"),
                row.get("latency_ms"),
                row.get("fault_rule"),
                row.get("fault_action"),
            ],
        )

    def after_attempt(
        self,
        db: sqlite_utils.Database,
        delivery_id: str,
        owner: str,
        *,
        status: str,
        attempts: int,
        due_at: float,
        drops_left: int,
        stamp: str,
    ) -> bool:
        """Settle a leased delivery; False when the lease was lost (another worker has it)."""
        return (
            db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, due_at = ?, drops_left = ?, updated_at = ?,"
                " lease_owner = NULL, lease_until = NULL WHERE delivery_id = ? AND lease_owner = ?",
                [status, attempts, due_at, drops_left, stamp, delivery_id, owner],
            ).rowcount
            > 0
        )

    def leased_by(self, db: sqlite_utils.Database, delivery_id: str, owner: str) -> bool:
        row = next(
            db.query(
                "SELECT EXISTS (SELECT 1 FROM deliveries WHERE delivery_id = ? AND lease_owner = ?) AS mine",
                [delivery_id, owner],
            )
        )
        return bool(row["mine"])

    def release_leases(self, db: sqlite_utils.Database) -> int:
        return db.execute(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL"
        ).rowcount

    def deliveries(
        self, *, subscription_id: str | None, event_id: str | None, status: str | None, limit: int, newest: bool = False
    ) -> list[dict]:
        where, params = ["1 = 1"], []
        for column, value in (("subscription_id", subscription_id), ("event_id", event_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = list(
            self.store.db.query(
                f"SELECT * FROM deliveries WHERE {' AND '.join(where)} ORDER BY seq{' DESC' if newest else ''} LIMIT ?",
                params + [limit],
            )
        )
        if not rows:
            return rows
        attempts: dict[str, list[dict]] = {r["delivery_id"]: [] for r in rows}
        marks = ", ".join("?" for _ in rows)
        for attempt in self.store.db.query(
            f"SELECT * FROM delivery_attempts WHERE delivery_id IN ({marks}) ORDER BY seq",
            [r["delivery_id"] for r in rows],
        ):
            attempts[attempt["delivery_id"]].append(attempt)
        for row in rows:
            row["attempt_rows"] = attempts[row["delivery_id"]]
        return rows

    # -- the SNS signing material (settings rows, kept by a reset) ---------------------------------
    def settings(self, *keys: str) -> dict[str, str]:
        marks = ", ".join("?" for _ in keys)
        return {
            r["key"]: r["value"]
            for r in self.store.db.query(f"SELECT key, value FROM settings WHERE key IN ({marks})", list(keys))
        }

    def settings_once(self, values: dict[str, str]) -> None:
        """Store every value whose key is not set yet, in one transaction."""
        with self.store.transaction() as db:
            for key, value in values.items():
                db.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", [key, value])

    # -- delivery fault rules -----------------------------------------------------------------------
    def insert_rule(self, db: sqlite_utils.Database, rule_id: str, rule: dict, created_at: str) -> None:
        db.execute(
            "INSERT INTO delivery_fault_rules (id, rule, matched, fired, created_at) VALUES (?, ?, 0, 0, ?)",
            [rule_id, json.dumps(rule, separators=(",", ":")), created_at],
        )

    def rules(self, db: sqlite_utils.Database | None = None) -> list[dict]:
        return [_rule(r) for r in self._db(db).query("SELECT * FROM delivery_fault_rules ORDER BY position")]

    def rule(self, rule_id: str, db: sqlite_utils.Database | None = None) -> dict | None:
        rows = [_rule(r) for r in self._db(db).query("SELECT * FROM delivery_fault_rules WHERE id = ?", [rule_id])]
        return rows[0] if rows else None

    def count_rule(self, db: sqlite_utils.Database, rule_id: str, fired: bool) -> None:
        db.execute(
            "UPDATE delivery_fault_rules SET matched = matched + 1, fired = fired + ? WHERE id = ?",
            [1 if fired else 0, rule_id],
        )

    def delete_rule(self, db: sqlite_utils.Database, rule_id: str) -> bool:
        return db.execute("DELETE FROM delivery_fault_rules WHERE id = ?", [rule_id]).rowcount > 0

    def delete_rules(self, db: sqlite_utils.Database) -> int:
        return db.execute("DELETE FROM delivery_fault_rules").rowcount


def _subscription(row: dict) -> dict:
    return {**row, "filter": json.loads(row["filter"]), "retry": json.loads(row["retry"])}


def _rule(row: dict) -> dict:
    return {**row, "rule": json.loads(row["rule"])}
