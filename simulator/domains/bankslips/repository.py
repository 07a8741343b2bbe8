"""SQL for bank slips: provider settings, scenarios, validations, payments and their history.

Tables come from the ``0004_bankslips`` migration (simulator/store.py). Money is stored as
decimal text ("100.00"), instants as RFC 3339 text with milliseconds and a Z, which sorts in
time order, so the receipts index (tenant, account, payment_at, authorization_id) serves every
receipts page as one bounded range scan.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import cast

import sqlite_utils

from pismo_sandbox.change_counters import REFERENCE
from pismo_sandbox.store import Store

FIRST_AUTHORIZATION_ID = 70_000_000


class SlipAlreadyPaid(Exception):
    """The unique index allows one active (PROCESSING, PAID, SETTLED) payment per slip and tenant."""


@dataclass(frozen=True)
class ReceiptsFilter:
    tenant_id: str
    account_id: int
    limit: int
    descending: bool = True
    authorization_id: int | None = None
    begin: str | None = None  # payment_at >= begin
    end: str | None = None  # payment_at <= end
    after: tuple[str, int | None] | None = None  # cursor: (payment_at, authorization_id)


class BankSlipRepository:
    def __init__(self, store: Store):
        self.store = store

    # -- the tenant's provider (admin setting) ---------------------------------------------------
    def admin_provider(self, tenant_id: str) -> str | None:
        rows = list(self.store.db.query("SELECT provider FROM bankslip_providers WHERE tenant_id = ?", [tenant_id]))
        return rows[0]["provider"] if rows else None

    def set_admin_provider(self, tenant_id: str, provider: str, now: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO bankslip_providers (tenant_id, provider, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant_id) DO UPDATE SET provider = excluded.provider,"
                " updated_at = excluded.updated_at",
                [tenant_id, provider, now],
            )
            self.store.changed(REFERENCE)

    def clear_admin_provider(self, tenant_id: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM bankslip_providers WHERE tenant_id = ?", [tenant_id])
            self.store.changed(REFERENCE)

    # -- scenarios (charges the fake registry attaches to a slip) --------------------------------
    def scenarios(self) -> dict[str, dict]:
        """Every charge scenario, by bar code (a short list the admin API keeps)."""
        return {row["bar_code"]: row for row in self.store.db.query("SELECT * FROM bankslip_scenarios")}

    def put_scenario(
        self, bar_code: str, fine: str | None, interest: str | None, discount: str | None, now: str
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO bankslip_scenarios (bar_code, fine, interest, discount, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (bar_code) DO UPDATE SET fine = excluded.fine,"
                " interest = excluded.interest, discount = excluded.discount",
                [bar_code, fine, interest, discount, now],
            )
            self.store.changed(REFERENCE)

    # -- validations -----------------------------------------------------------------------------
    def save_validation(self, row: dict) -> None:
        self.store.write_one(
            "INSERT INTO bankslip_validations (tenant_id, account_id, bar_code, provider,"
            " external_authorization, amount, original_amount, fine, interest, discount,"
            " validated_at, expires_at) VALUES (:tenant_id, :account_id, :bar_code, :provider,"
            " :external_authorization, :amount, :original_amount, :fine, :interest, :discount,"
            " :validated_at, :expires_at) ON CONFLICT (tenant_id, account_id, bar_code) DO UPDATE"
            " SET provider = excluded.provider, external_authorization = excluded.external_authorization,"
            " amount = excluded.amount, original_amount = excluded.original_amount,"
            " fine = excluded.fine, interest = excluded.interest, discount = excluded.discount,"
            " validated_at = excluded.validated_at, expires_at = excluded.expires_at",
            row,
        )

    def validation(self, tenant_id: str, account_id: int, bar_code: str) -> dict | None:
        rows = list(
            self.store.db.query(
                "SELECT * FROM bankslip_validations WHERE tenant_id = ? AND account_id = ? AND bar_code = ?",
                [tenant_id, account_id, bar_code],
            )
        )
        return rows[0] if rows else None

    def delete_validation(self, db: sqlite_utils.Database, tenant_id: str, account_id: int, bar_code: str) -> None:
        db.execute(
            "DELETE FROM bankslip_validations WHERE tenant_id = ? AND account_id = ? AND bar_code = ?",
            [tenant_id, account_id, bar_code],
        )

    # -- payments --------------------------------------------------------------------------------
    def active_payment(self, tenant_id: str, bar_code: str, db: sqlite_utils.Database | None = None) -> dict | None:
        rows = list(
            (db or self.store.db).query(
                "SELECT authorization_id, account_id, status, next_at FROM bankslip_payments"
                " WHERE tenant_id = ? AND bar_code = ? AND status IN ('PROCESSING', 'PAID', 'SETTLED')",
                [tenant_id, bar_code],
            )
        )
        return rows[0] if rows else None

    def insert_payment(self, db: sqlite_utils.Database, row: dict) -> int:
        """Insert a payment and its first history entry; its authorization_id, the one in ``row``
        or else the next after the highest so far (allocated by the INSERT itself)."""
        columns = [c for c in row if c != "authorization_id"]
        try:
            cursor = db.execute(
                f"INSERT INTO bankslip_payments (authorization_id, {', '.join(columns)}) VALUES (COALESCE(?,"
                f" (SELECT COALESCE(MAX(authorization_id), {FIRST_AUTHORIZATION_ID}) + 1 FROM bankslip_payments)),"
                f" {', '.join('?' * len(columns))})",
                [row.get("authorization_id")] + [row[c] for c in columns],
            )
            # The rowid is the authorization_id (INTEGER PRIMARY KEY): one step of the statement,
            # where RETURNING takes a second one (and another hand-over of the interpreter lock)
            # while the write lock is held.
            authorization_id = cast(int, cursor.lastrowid)  # set by an INSERT
        except sqlite3.IntegrityError as error:
            if "bankslip_payments.tenant_id, bankslip_payments.bar_code" in str(error):
                raise SlipAlreadyPaid() from None
            raise
        self.add_history(db, authorization_id, None, row["status"], row["payment_at"])
        return authorization_id

    def get_payment(self, authorization_id: int) -> dict | None:
        rows = list(
            self.store.db.query("SELECT * FROM bankslip_payments WHERE authorization_id = ?", [authorization_id])
        )
        return rows[0] if rows else None

    def list_payments(self, tenant_id: str, account_id: int | None, status: str | None, limit: int) -> list[dict]:
        where: list[str] = ["tenant_id = ?"]
        params: list[object] = [tenant_id]
        if account_id is not None:
            where.append("account_id = ?")
            params.append(account_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        return list(
            self.store.db.query(
                f"SELECT * FROM bankslip_payments WHERE {' AND '.join(where)} ORDER BY authorization_id LIMIT ?",
                params + [limit],
            )
        )

    def history(self, authorization_ids: list[int]) -> dict[int, list[dict]]:
        found: dict[int, list[dict]] = {i: [] for i in authorization_ids}
        for start in range(0, len(authorization_ids), 500):
            chunk = authorization_ids[start : start + 500]
            for row in self.store.db.query(
                "SELECT authorization_id, old_status, new_status, at FROM bankslip_status_history"
                f" WHERE authorization_id IN ({', '.join('?' * len(chunk))})"
                " ORDER BY authorization_id, seq",
                chunk,
            ):
                found[row["authorization_id"]].append(
                    {"old_status": row["old_status"], "new_status": row["new_status"], "at": row["at"]}
                )
        return found

    # -- lifecycle -------------------------------------------------------------------------------
    def any_due(self, now: str) -> bool:
        return bool(
            list(
                self.store.db.query(
                    "SELECT 1 FROM bankslip_payments WHERE next_at IS NOT NULL AND next_at <= ? LIMIT 1", [now]
                )
            )
        )

    def due(self, db: sqlite_utils.Database, now: str, limit: int) -> list[dict]:
        return list(
            db.query(
                "SELECT * FROM bankslip_payments WHERE next_at IS NOT NULL AND next_at <= ?"
                " ORDER BY next_at, authorization_id LIMIT ?",
                [now, limit],
            )
        )

    def due_for_slip(self, db: sqlite_utils.Database, tenant_id: str, bar_code: str, now: str) -> list[dict]:
        return list(
            db.query(
                "SELECT * FROM bankslip_payments WHERE tenant_id = ? AND bar_code = ? AND next_at IS NOT NULL"
                " AND next_at <= ? ORDER BY next_at, authorization_id",
                [tenant_id, bar_code, now],
            )
        )

    def transition(
        self, db: sqlite_utils.Database, authorization_id: int, old: str, new: str, at: str, next_at: str | None
    ) -> bool:
        """Move one payment from ``old`` to ``new``; False when it is no longer in ``old``."""
        cursor = db.execute(
            "UPDATE bankslip_payments SET status = ?, next_at = ?, updated_at = ?"
            " WHERE authorization_id = ? AND status = ?",
            [new, next_at, at, authorization_id, old],
        )
        return cursor.rowcount == 1

    def add_history(self, db: sqlite_utils.Database, authorization_id: int, old: str | None, new: str, at: str) -> None:
        db.execute(
            "INSERT INTO bankslip_status_history (authorization_id, seq, old_status, new_status, at)"
            " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM bankslip_status_history"
            " WHERE authorization_id = ?",
            [authorization_id, old, new, at, authorization_id],
        )

    # -- receipts --------------------------------------------------------------------------------
    def receipts(self, f: ReceiptsFilter) -> list[dict]:
        """One page, in (payment_at, authorization_id) order, from the receipts index."""
        where, params = ["tenant_id = ?", "account_id = ?"], [f.tenant_id, f.account_id]
        if f.authorization_id is not None:
            where.append("authorization_id = ?")
            params.append(f.authorization_id)
        if f.begin is not None:
            where.append("payment_at >= ?")
            params.append(f.begin)
        if f.end is not None:
            where.append("payment_at <= ?")
            params.append(f.end)
        op = "<" if f.descending else ">"
        if f.after is not None:
            moment, last_id = f.after
            if last_id is None:
                where.append(f"payment_at {op} ?")
                params.append(moment)
            else:
                where.append(f"(payment_at, authorization_id) {op} (?, ?)")
                params += [moment, last_id]
        direction = "DESC" if f.descending else "ASC"
        return list(
            self.store.db.query(
                f"SELECT * FROM bankslip_payments WHERE {' AND '.join(where)}"
                f" ORDER BY payment_at {direction}, authorization_id {direction} LIMIT ?",
                params + [f.limit],
            )
        )

    def explain_receipts(self, f: ReceiptsFilter) -> str:
        """The query plan of a receipts page (tests check it stays an index range scan)."""
        where = "tenant_id = ? AND account_id = ? AND (payment_at, authorization_id) < (?, ?)"
        rows = self.store.db.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM bankslip_payments WHERE {where}"
            " ORDER BY payment_at DESC, authorization_id DESC LIMIT ?",
            [f.tenant_id, f.account_id, "9999", 0, f.limit],
        ).fetchall()
        return " | ".join(str(r[-1]) for r in rows)
