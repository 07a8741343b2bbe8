"""The scale comparison's preload puts its rows where the measured requests look: the requests'
own tenant and account, with history, events, idempotency keys and journal rows, part of the
payments due (and the lifecycle moves those like any other)."""

from __future__ import annotations

import sqlite3

from bench.scale import DUE_EVERY, IN_FLIGHT_EVERY, preload
from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config
from pismo_sandbox.store import journal_path


def _one(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_the_preload_fills_the_requests_own_tenant_and_account_with_due_payments(tmp_path):
    db = str(tmp_path / "scale.db")
    sandbox = build_sandbox(Config(db_path=db))
    tenant = sandbox.tenancy.create_tenant().tenant_id
    account = sandbox.tenancy.create_account(tenant)["account_id"]
    sandbox.close()

    counts = preload(db, tenant, account, payments=400, accounts=20, journal_rows=30)

    conn = sqlite3.connect(db)
    assert _one(conn, "SELECT COUNT(*) FROM bankslip_payments WHERE tenant_id = ?", tenant) == 400
    assert (
        _one(conn, "SELECT COUNT(*) FROM bankslip_payments WHERE tenant_id = ? AND account_id = ?", tenant, account)
        == 200
    )
    assert _one(conn, "SELECT COUNT(*) FROM accounts WHERE tenant_id = ?", tenant) == 21
    assert _one(conn, "SELECT COUNT(*) FROM events WHERE org_id = ?", tenant) == 400
    assert _one(conn, "SELECT COUNT(*) FROM idempotency_keys WHERE tenant_id = ?", tenant) == 400
    assert _one(conn, "SELECT COUNT(*) FROM bankslip_status_history") > 400
    in_flight = _one(conn, "SELECT COUNT(*) FROM bankslip_payments WHERE status = 'PROCESSING'")
    assert in_flight == counts["in_flight"] == 400 // IN_FLIGHT_EVERY
    conn.close()
    journal = sqlite3.connect(journal_path(db))
    assert _one(journal, "SELECT COUNT(*) FROM journal WHERE tenant_id = ? AND account_id = ?", tenant, account) == 30
    journal.close()

    sandbox = build_sandbox(Config(db_path=db))
    moved = sandbox.bankslips.lifecycle.progress()
    sandbox.close()
    assert counts["due_at_start"] == in_flight // DUE_EVERY
    assert moved == counts["due_at_start"]  # each due one moved once (PROCESSING -> PAID), the rest later
