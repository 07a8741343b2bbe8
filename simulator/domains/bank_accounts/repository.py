"""SQL for bank accounts. One row per registration; removal keeps the row (status DELETED),
and the partial unique index ``bank_accounts_one_active`` allows one ACTIVE row per tenant,
Pismo account and scheme."""

from __future__ import annotations

import json
import sqlite3

import sqlite_utils

from pismo_sandbox.jsonio import encode_text
from pismo_sandbox.store import Store

ACTIVE, DELETED = "ACTIVE", "DELETED"


class BankAccountRepository:
    def __init__(self, store: Store):
        self.store = store

    def insert(self, db: sqlite_utils.Database, row: dict) -> dict | None:
        """Insert an ACTIVE bank account; the row as stored (as find_active reads it back), or
        None when one is already active."""
        stored = {
            "tenant_id": row["tenant_id"],
            "account_id": row["account_id"],
            "scheme_name": row["scheme_name"],
            "scheme": encode_text(row["scheme"]),
            "account_type": row["account_type"],
            "metadata": encode_text(row["metadata"]),
            "status": ACTIVE,
            "created_at": row["now"],
            "updated_at": row["now"],
        }
        try:
            cursor = db.execute(
                "INSERT INTO bank_accounts (tenant_id, account_id, scheme_name, scheme, account_type,"
                " metadata, status, created_at, updated_at) VALUES (:tenant_id, :account_id,"
                " :scheme_name, :scheme, :account_type, :metadata, :status, :created_at, :updated_at)",
                stored,
            )
        except sqlite3.IntegrityError as error:
            if "UNIQUE constraint failed: bank_accounts." in str(error):
                return None
            raise
        # As find_active would read it back: the scheme and metadata just encoded read back as
        # the values they were encoded from (plain JSON values), so they are not decoded again.
        return {"id": cursor.lastrowid, **stored, "scheme": row["scheme"], "metadata": row["metadata"]}

    # 'ACTIVE' is written into the statement, not bound: the partial index only serves rows
    # whose status is ACTIVE, and with a bound status SQLite re-plans the statement at every
    # execution to find out whether it may use it (measured: 31 us a lookup instead of 8).
    FIND_ACTIVE = (
        "SELECT * FROM bank_accounts WHERE tenant_id = ? AND account_id = ?"
        f" AND scheme_name = ? AND status = '{ACTIVE}'"
    )

    def find_active(
        self, db: sqlite_utils.Database | None, tenant_id: str, account_id: int, scheme_name: str
    ) -> dict | None:
        db = db or self.store.db
        rows = list(db.query(self.FIND_ACTIVE, [tenant_id, account_id, scheme_name]))
        return _decoded(rows[0]) if rows else None

    def mark_deleted(self, db: sqlite_utils.Database, bank_account_id: int, now: str) -> None:
        db.execute("UPDATE bank_accounts SET status = ?, updated_at = ? WHERE id = ?", [DELETED, now, bank_account_id])


def _decoded(row: dict) -> dict:
    return {**row, "scheme": json.loads(row["scheme"]), "metadata": json.loads(row["metadata"])}
