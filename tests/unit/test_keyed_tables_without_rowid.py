"""Tables keyed by their primary key alone are stored in it (migration 0016): a database written
before keeps every row of them, and each key still admits one row."""

from __future__ import annotations

import sqlite3

import pytest

from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.store import MIGRATIONS, Store

KEYED = {
    "credentials": "tenant_id, provider, type",
    "idempotency_keys": "tenant_id, account_scope, idempotency_key",
    "bankslip_validations": "tenant_id, account_id, bar_code",
    "bankslip_status_history": "authorization_id, seq",
}


def _rows(store: Store) -> dict[str, list[dict]]:
    return {table: list(store.db.query(f"SELECT * FROM {table} ORDER BY {key}")) for table, key in KEYED.items()}


def test_rows_written_before_the_upgrade_are_all_kept_and_keys_stay_unique(tmp_path):
    path = str(tmp_path / "old.db")
    names = [name for name, _sql in MIGRATIONS]
    before = Store(path, migrations=MIGRATIONS[: names.index("0016_keyed_tables_without_rowid")])
    before.migrate()
    stamp = "2025-01-01T00:00:00Z"
    with before.transaction() as db:
        db.execute(
            "INSERT INTO tenants (tenant_id, server_key, server_secret_hash, created_at) VALUES ('TN-1', 'sk', 'h', ?)",
            [stamp],
        )
        for provider in ("CELCOIN", "BTG"):
            db.execute(
                "INSERT INTO credentials VALUES ('TN-1', ?, 'BAAS', 'client', x'0102', ?, 2, ?, ?)",
                [provider, stamp, stamp, stamp],
            )
        for n in range(3):
            db.execute(
                "INSERT INTO idempotency_keys VALUES ('TN-1', '7', ?, 'op', 'fp', 'completed', NULL, NULL, 202,"
                ' \'{"status":"PROCESSING"}\', ?, ?)',
                [f"key-{n}", stamp, stamp],
            )
            db.execute(
                "INSERT INTO bankslip_validations VALUES ('TN-1', 7, ?, 'CELCOIN', NULL, '10.00', '10.00', '0.00',"
                " '0.00', '0.00', ?, ?)",
                [f"{n:044d}", stamp, stamp],
            )
        db.execute(
            "INSERT INTO bankslip_payments (authorization_id, tenant_id, account_id, provider, provider_id,"
            " authorization_code, type, bar_code, digitable_line, amount, beneficiary_name,"
            " beneficiary_document, beneficiary_document_type, status, outcome, skip_reconciliation,"
            " payment_at, updated_at) VALUES (70000001, 'TN-1', 7, 'CELCOIN', 'p', '000001', 1, ?, ?,"
            " '10.00', 'B', '12345678909', 'CPF', 'SETTLED', 'SETTLED', 0, ?, ?)",
            ["1" * 44, "1" * 47, stamp, stamp],
        )
        for seq, (old, new) in enumerate([(None, "PROCESSING"), ("PROCESSING", "PAID"), ("PAID", "SETTLED")], 1):
            db.execute("INSERT INTO bankslip_status_history VALUES (70000001, ?, ?, ?, ?)", [seq, old, new, stamp])
    written = _rows(before)
    before.close()
    assert all(len(rows) >= 2 for rows in written.values())  # every table has rows to keep

    sandbox = build_sandbox(Config(db_path=path))
    try:
        upgraded = sandbox.store
        assert _rows(upgraded) == written
        for table in KEYED:
            [sql] = [row["sql"] for row in upgraded.db.query("SELECT sql FROM sqlite_master WHERE name = ?", [table])]
            assert sql.rstrip().endswith("WITHOUT ROWID")
            declared = sorted((row["pk"], row["name"]) for row in upgraded.db.query(f"PRAGMA table_info({table})"))
            assert ", ".join(name for pk, name in declared if pk) == KEYED[table]  # the same key as before
            with pytest.raises(sqlite3.IntegrityError):  # a row again under a key already taken
                with upgraded.transaction() as db:
                    db.execute(f"INSERT INTO {table} SELECT * FROM {table} LIMIT 1")
        assert _rows(upgraded) == written  # the refused inserts left nothing behind
    finally:
        sandbox.close()
