"""SQL for provider credentials (keys are stored only as AES-GCM ciphertext)."""

from __future__ import annotations

import sqlite_utils

from pismo_sandbox.domains.credentials.providers import proxy_value
from pismo_sandbox.change_counters import REFERENCE
from pismo_sandbox.store import Store

PUBLIC_COLUMNS = "provider, type, client_id, version, token_expires_at, created_at, updated_at"


class CredentialRepository:
    def __init__(self, store: Store):
        self.store = store

    def get(self, db: sqlite_utils.Database, tenant_id: str, provider: str, type_: str) -> dict | None:
        rows = list(
            db.query(
                "SELECT * FROM credentials WHERE tenant_id = ? AND provider = ? AND type = ?",
                [tenant_id, provider, type_],
            )
        )
        return rows[0] if rows else None

    def upsert(self, row: dict) -> None:
        """Store a credential: a new one at version 1, or the stored one replaced at its next
        version (its proxy value follows from it), in one statement of one step: the write lock
        is held for that alone (no RETURNING, whose rows take another step)."""
        self.store.write_one(
            "INSERT INTO credentials (tenant_id, provider, type, client_id, key_ciphertext,"
            " token_expires_at, version, created_at, updated_at) VALUES (:tenant_id, :provider, :type,"
            " :client_id, :key_ciphertext, :token_expires_at, 1, :now, :now)"
            " ON CONFLICT (tenant_id, provider, type) DO UPDATE SET client_id = excluded.client_id,"
            " key_ciphertext = excluded.key_ciphertext,"
            " token_expires_at = excluded.token_expires_at, version = version + 1,"
            " updated_at = excluded.updated_at",
            row,
        )
        self.store.changed(REFERENCE)  # the tenant's bank-slip provider may follow its credentials

    def list_public(self, tenant_id: str) -> list[dict]:
        """A tenant's credentials without their ciphertext, each with its version's proxy value."""
        return [
            {
                "provider": row["provider"],
                "type": row["type"],
                "client_id": row["client_id"],
                "proxy_value": proxy_value(tenant_id, row["provider"], row["type"], row["version"]),
                **row,
            }
            for row in self.store.db.query(
                f"SELECT {PUBLIC_COLUMNS} FROM credentials WHERE tenant_id = ? ORDER BY provider, type", [tenant_id]
            )
        ]
