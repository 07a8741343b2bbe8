"""`make bench SCALE=1`: does cost grow with state? Pay and receipts latency on a database
preloaded with 1,000,000 bank-slip payments and 100,000 accounts, against an empty one."""

from __future__ import annotations

import argparse
import pathlib
import sqlite3
import time

from bench.scenarios import SCENARIOS, Fixture
from bench.servers import simulator_server
from bench.wrk import median_measure, run_wrk

PAYMENTS, ACCOUNTS = 1_000_000, 100_000
CHUNK = 50_000


def preload(db_path: str, payments: int = PAYMENTS, accounts: int = ACCOUNTS) -> float:
    """Fill the database directly (the schema comes from the simulator's own migrations)."""
    from pismo_sandbox.app import build_sandbox
    from pismo_sandbox.clock import isoformat
    from pismo_sandbox.config import Config

    sandbox = build_sandbox(Config(db_path=db_path))
    tenant = sandbox.tenancy.create_tenant("TN-scale").tenant_id
    now = isoformat(sandbox.clock.now())
    sandbox.close()
    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    first = 200_000_001
    conn.executemany("INSERT INTO accounts (account_id, tenant_id, status, created_at, updated_at)"
                     " VALUES (?, ?, 'NORMAL', ?, ?)",
                     ((first + i, tenant, now, now) for i in range(accounts)))
    columns = ("authorization_id, tenant_id, account_id, provider, provider_id, authorization_code,"
               " type, bar_code, digitable_line, amount, due_date, beneficiary_name, beneficiary_document,"
               " beneficiary_document_type, status, outcome, skip_reconciliation, payment_at, updated_at")
    for start in range(0, payments, CHUNK):
        rows = []
        for n in range(start, min(start + CHUNK, payments)):
            day = 1 + n % 28
            stamp = f"2026-{1 + n % 10:02d}-{day:02d}T12:{n % 60:02d}:{(n // 60) % 60:02d}.000Z"
            code = f"{n:044d}"
            rows.append((900_000_000 + n, tenant, first + n % accounts, "CELCOIN", f"prov-{n}", f"{n % 999999:06d}",
                         1, code, f"{n:047d}", "100.00", "2026-12-01", "Scale Beneficiary", "12345678909",
                         "CPF", "SETTLED", "SETTLED", 0, stamp, stamp))
        conn.executemany(f"INSERT INTO bankslip_payments ({columns}) VALUES ({', '.join('?' * 19)})", rows)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def compare_scale(workdir: pathlib.Path, args: argparse.Namespace) -> dict:
    """Both databases served side by side and measured in alternation (after a short unmeasured
    warm-up each time), so a slow spell of the machine hits both; medians over the rounds."""
    empty_db, loaded_db = str(workdir / "empty.db"), str(workdir / "loaded.db")
    seconds = preload(loaded_db)
    print(f"preloaded {PAYMENTS:,} payments and {ACCOUNTS:,} accounts in {seconds:.0f} s")
    databases = {"empty": empty_db, "loaded": loaded_db}
    servers = {state: simulator_server(pathlib.Path(path)) for state, path in databases.items()}
    measured: dict = {(state, name): [] for state in servers for name in ("pay", "receipts")}
    duration = max(3, args.duration // 2)
    try:
        fixtures = {}
        for state, server in servers.items():
            server.start("/_sandbox/health")
            fixtures[state] = Fixture(server.url, databases[state])
        for _ in range(args.rounds):
            for name in ("pay", "receipts"):
                for state, server in servers.items():
                    lines = SCENARIOS[name](fixtures[state], min(args.pool, 4000))
                    run_wrk(server, lines, 1, args.connections, args.threads)  # warm-up
                    lines = SCENARIOS[name](fixtures[state], min(args.pool, 4000))
                    measured[(state, name)].append(
                        run_wrk(server, lines, duration, args.connections, args.threads))
    finally:
        for server in servers.values():
            server.stop()
    out = {}
    for name in ("pay", "receipts"):
        empty, loaded = (median_measure(measured[(state, name)]) for state in ("empty", "loaded"))
        out[name] = {"empty_p50_ms": empty.p50_ms, "loaded_p50_ms": loaded.p50_ms,
                     "empty_p99_ms": empty.p99_ms, "loaded_p99_ms": loaded.p99_ms,
                     "ratio": round(loaded.p50_ms / empty.p50_ms, 2) if empty.p50_ms else None}
    return out
