"""`make bench SCALE=1`: does cost grow with state? Pay and receipts measured on a database
whose state sits where the measured requests look, against one holding only what they need.

Both sides get the same fixture through the HTTP API (tenant, account, token, provider
credential). The loaded side then gets, in the fixture's own tenant: 100,000 more accounts and
1,000,000 bank-slip payments, half of them in the requests' own account, each with its status
history, its authorization event and its completed idempotency key, plus a full request
journal (10,000 rows, the journal's bound) of that tenant. Most payments are settled; 5% are
still on their way (PROCESSING), a tenth of those already due when the server starts (the
first requests apply those transitions) and the rest falling due one after another during
the run, so the lifecycle's work on the pay path is part of what is measured.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sqlite3
import time
from datetime import UTC, datetime, timedelta

from bench import progress
from bench.scenarios import SCENARIOS, Fixture
from bench.servers import Server, simulator_server
from bench.wrk import median_measure, run_wrk
from pismo_sandbox.client import AdminClient

PAYMENTS, ACCOUNTS, JOURNAL_ROWS = 1_000_000, 100_000, 10_000
IN_FLIGHT_EVERY = 20  # one payment in 20 is still PROCESSING
DUE_EVERY = 10  # of those, one in 10 is due already
FALLING_DUE_S = 1200  # the rest fall due evenly over this many seconds after the preload
CHUNK = 50_000
PAY_OPERATION = "post-integrated-payments-api-v1-bankslips-pay"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def preload(
    db_path: str,
    tenant_id: str,
    account_id: int,
    payments: int = PAYMENTS,
    accounts: int = ACCOUNTS,
    journal_rows: int = JOURNAL_ROWS,
) -> dict:
    """Fill the (served, then stopped) database of ``tenant_id`` directly; counts of what it
    wrote. The schema is the simulator's own, migrated when the server first started."""
    from pismo_sandbox.store import journal_path

    started = time.perf_counter()
    now = datetime.now(UTC)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous = OFF")
    first = 200_000_001
    created = _stamp(now - timedelta(days=30))
    conn.executemany(
        "INSERT INTO accounts (account_id, tenant_id, status, created_at, updated_at) VALUES (?, ?, 'NORMAL', ?, ?)",
        ((first + i, tenant_id, created, created) for i in range(accounts)),
    )
    columns = (
        "authorization_id, tenant_id, account_id, provider, provider_id, authorization_code,"
        " type, bar_code, digitable_line, amount, due_date, beneficiary_name, beneficiary_document,"
        " beneficiary_document_type, status, outcome, next_at, skip_reconciliation, idempotency_key,"
        " cid, payment_at, updated_at"
    )
    in_flight = due = 0
    for start in range(0, payments, CHUNK):
        slips: list[tuple] = []
        history: list[tuple] = []
        events: list[tuple] = []
        keys: list[tuple] = []
        for n in range(start, min(start + CHUNK, payments)):
            authorization_id = 900_000_000 + n
            account = account_id if n % 2 == 0 else first + n % accounts
            paid_at = now - timedelta(days=1 + n % 200, seconds=n % 86_400)
            stamp, key, cid = _stamp(paid_at), f"scale-{n}", f"scale-cid-{n}"
            if n % IN_FLIGHT_EVERY == 0:
                in_flight += 1
                if (n // IN_FLIGHT_EVERY) % DUE_EVERY == 0:
                    due += 1
                    next_at = now - timedelta(seconds=1 + n % 600)
                else:
                    next_at = now + timedelta(seconds=(n * 7919) % (FALLING_DUE_S * 1000) / 1000)
                status, next_stamp = "PROCESSING", _stamp(next_at)
                history.append((authorization_id, 1, None, "PROCESSING", stamp))
            else:
                status, next_stamp = "SETTLED", None
                history += [
                    (authorization_id, 1, None, "PROCESSING", stamp),
                    (authorization_id, 2, "PROCESSING", "PAID", stamp),
                    (authorization_id, 3, "PAID", "SETTLED", stamp),
                ]
            slips.append(
                (
                    authorization_id,
                    tenant_id,
                    account,
                    "CELCOIN",
                    f"prov-{n}",
                    f"{n % 999999:06d}",
                    1,
                    f"{n:044d}",
                    f"{n:047d}",
                    "100.00",
                    "2026-12-01",
                    "Scale Beneficiary",
                    "12345678909",
                    "CPF",
                    status,
                    "SETTLED",
                    next_stamp,
                    0,
                    key,
                    cid,
                    stamp,
                    stamp,
                )
            )
            body = json.dumps({"authorization_id": authorization_id, "status": "PROCESSING"}, separators=(",", ":"))
            events.append(
                (
                    f"scale-event-{n}",
                    tenant_id,
                    "authorization",
                    "authorization-event-1",
                    1,
                    cid,
                    stamp,
                    json.dumps(
                        {"authorization_id": authorization_id, "account_id": account, "amount": "100.00"},
                        separators=(",", ":"),
                    ),
                )
            )
            keys.append(
                (tenant_id, str(account), key, PAY_OPERATION, f"{n:064x}", "completed", 202, body, stamp, stamp)
            )
        conn.executemany(f"INSERT INTO bankslip_payments ({columns}) VALUES ({', '.join('?' * 22)})", slips)
        conn.executemany(
            "INSERT INTO bankslip_status_history (authorization_id, seq, old_status, new_status, at)"
            " VALUES (?, ?, ?, ?, ?)",
            history,
        )
        conn.executemany(
            "INSERT INTO events (event_id, org_id, domain, event_type, schema_version, cid,"
            " timestamp, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.executemany(
            "INSERT INTO idempotency_keys (tenant_id, account_scope, idempotency_key, operation_id,"
            " fingerprint, state, response_status, response_body, created_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            keys,
        )
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    journal = sqlite3.connect(journal_path(db_path))
    journal.executemany(
        "INSERT INTO journal (timestamp, method, path, operation_id, status, tenant_id, account_id, cid,"
        " verdict, duration_ms, idempotency_key) VALUES (?, 'POST', '/integrated-payments/v1/bankslips/pay',"
        " ?, 202, ?, ?, ?, 'ok', 3.0, ?)",
        (
            (
                _stamp(now - timedelta(seconds=journal_rows - i)),
                PAY_OPERATION,
                tenant_id,
                account_id,
                f"scale-journal-{i}",
                f"scale-{i}",
            )
            for i in range(journal_rows)
        ),
    )
    journal.commit()
    journal.close()
    return {
        "payments": payments,
        "accounts": accounts,
        "in_flight": in_flight,
        "due_at_start": due,
        "journal_rows": journal_rows,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _served(db: str, fixture: Fixture | None = None) -> tuple[Server, Fixture]:
    server = simulator_server(pathlib.Path(db)).start("/_sandbox/health")
    if fixture is None:
        return server, Fixture(server.url, db)
    fixture.base, fixture.admin = server.url, AdminClient(server.url, timeout=10)  # same state, new port
    return server, fixture


def compare_scale(workdir: pathlib.Path, args: argparse.Namespace) -> dict:
    """Both databases served side by side and measured in alternation (after a short unmeasured
    warm-up each time), so a slow spell of the machine hits both; medians over the rounds."""
    databases = {"empty": str(workdir / "empty.db"), "loaded": str(workdir / "loaded.db")}
    servers, fixtures = {}, {}
    measured: dict = {(state, name): [] for state in databases for name in ("pay", "receipts")}
    duration = max(3, args.duration // 2)
    out: dict = {}
    try:
        for state, db in databases.items():
            servers[state], fixtures[state] = _served(db)
        servers["loaded"].stop()  # preloaded while nothing else writes
        out["preloaded"] = preload(databases["loaded"], fixtures["loaded"].tenant_id, fixtures["loaded"].account_id)
        progress.say(f"scale: preloaded {out['preloaded']}")
        servers["loaded"], fixtures["loaded"] = _served(databases["loaded"], fixtures["loaded"])
        for round_no in range(args.rounds):
            for name in ("pay", "receipts"):
                for state, server in servers.items():
                    # One-shot pools sized as the main rounds size theirs: a pool the run walks
                    # through more than once repeats its pays' validations, which are refused.
                    rates, guess = [m.rps for m in measured[(state, name)]], progress.first_guess(name)
                    warm = progress.pool_size(args.pool, 1, rates, guess)
                    run_wrk(server, SCENARIOS[name](fixtures[state], warm), 1, args.connections, args.threads)
                    pool = progress.pool_size(args.pool, duration, rates, guess)
                    lines = SCENARIOS[name](fixtures[state], pool)
                    measure = run_wrk(server, lines, duration, args.connections, args.threads)
                    measured[(state, name)].append(measure)
                    progress.say(
                        f"scale round {round_no + 1}: {name} {state} p50 {measure.p50_ms:.1f} ms,"
                        f" {measure.cpu_us_per_request:.0f} CPU us/req, {measure.errors} errors"
                    )
    finally:
        for server in servers.values():
            server.stop()
    for name in ("pay", "receipts"):
        empty, loaded = (median_measure(measured[(state, name)]) for state in ("empty", "loaded"))
        out[name] = {
            "empty_p50_ms": empty.p50_ms,
            "loaded_p50_ms": loaded.p50_ms,
            "empty_p99_ms": empty.p99_ms,
            "loaded_p99_ms": loaded.p99_ms,
            "empty_cpu_us_per_request": round(empty.cpu_us_per_request),
            "loaded_cpu_us_per_request": round(loaded.cpu_us_per_request),
            "empty_errors": sum(m.errors for m in measured[("empty", name)]),
            "loaded_errors": sum(m.errors for m in measured[("loaded", name)]),
            "ratio": round(loaded.p50_ms / empty.p50_ms, 2) if empty.p50_ms else None,
            "cpu_ratio": round(loaded.cpu_us_per_request / empty.cpu_us_per_request, 2)
            if empty.cpu_us_per_request
            else None,
        }
    return out
