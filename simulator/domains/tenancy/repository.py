"""SQL for tenants and accounts."""

from __future__ import annotations

import sqlite3

import sqlite_utils

from pismo_sandbox.change_counters import REFERENCE
from pismo_sandbox.store import Store


class TenancyRepository:
    def __init__(self, store: Store):
        self.store = store

    def insert_tenant(self, db: sqlite_utils.Database, tenant: dict) -> bool:
        """Insert; False when the tenant id (or, improbably, the server key) already exists."""
        try:
            db.execute(
                "INSERT INTO tenants (tenant_id, server_key, server_secret_hash, created_at)"
                " VALUES (:tenant_id, :server_key, :server_secret_hash, :created_at)",
                tenant,
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get_tenant(self, tenant_id: str, db: sqlite_utils.Database | None = None) -> dict | None:
        rows = list((db or self.store.db).query("SELECT * FROM tenants WHERE tenant_id = ?", [tenant_id]))
        return rows[0] if rows else None

    def set_server_credentials(
        self, db: sqlite_utils.Database, tenant_id: str, server_key: str, server_secret_hash: str
    ) -> bool:
        """Replace a tenant's server key and secret; False when the key is another tenant's."""
        try:
            db.execute(
                "UPDATE tenants SET server_key = ?, server_secret_hash = ? WHERE tenant_id = ?",
                [server_key, server_secret_hash, tenant_id],
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def tenant_by_server_key(self, server_key: str) -> dict | None:
        rows = list(self.store.db.query("SELECT * FROM tenants WHERE server_key = ?", [server_key]))
        return rows[0] if rows else None

    def list_tenants(self) -> list[dict]:
        return list(
            self.store.db.query(
                "SELECT t.tenant_id, t.server_key, t.created_at, COUNT(a.account_id) AS accounts"
                " FROM tenants t LEFT JOIN accounts a USING (tenant_id)"
                " GROUP BY t.tenant_id ORDER BY t.created_at, t.tenant_id"
            )
        )

    def next_account_id(self, db: sqlite_utils.Database) -> int:
        row = next(db.query("SELECT COALESCE(MAX(account_id), 100000000) + 1 AS next FROM accounts"))
        return row["next"]

    def insert_account(self, db: sqlite_utils.Database, account: dict) -> bool:
        try:
            db.execute(
                "INSERT INTO accounts (account_id, tenant_id, status, created_at, updated_at)"
                " VALUES (:account_id, :tenant_id, :status, :created_at, :updated_at)",
                account,
            )
        except sqlite3.IntegrityError:
            return False
        self.store.changed(REFERENCE)
        return True

    def get_account(self, account_id: int, db: sqlite_utils.Database | None = None) -> dict | None:
        db = db or self.store.db
        rows = list(db.query("SELECT * FROM accounts WHERE account_id = ?", [account_id]))
        return rows[0] if rows else None

    def list_accounts(self, tenant_id: str) -> list[dict]:
        return list(self.store.db.query("SELECT * FROM accounts WHERE tenant_id = ? ORDER BY account_id", [tenant_id]))

    def delete_account(self, db: sqlite_utils.Database, account_id: int) -> None:
        db.execute("DELETE FROM accounts WHERE account_id = ?", [account_id])
        self.store.changed(REFERENCE)

    def set_account_status(self, db: sqlite_utils.Database, account_id: int, status: str, updated_at: str) -> None:
        db.execute(
            "UPDATE accounts SET status = ?, updated_at = ? WHERE account_id = ?", [status, updated_at, account_id]
        )
        self.store.changed(REFERENCE)
