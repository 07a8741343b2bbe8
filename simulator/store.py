"""The only module that opens the database: connections, schema migrations, transactions.

SQLite in WAL mode with a busy timeout; one connection per thread, opened lazily so that no
connection exists before a server worker forks. Read-modify-write paths use
``transaction()``, which is ``BEGIN IMMEDIATE``: the write lock is taken up front, so two
workers never interleave a read and a write of the same rows.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from typing import Iterator

import sqlite_utils

BUSY_TIMEOUT_MS = 15_000

# Append-only: each entry runs once per database, in order, inside one transaction.
MIGRATIONS: list[tuple[str, str]] = [
    ("0001_core", """
        CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE tenants (
            tenant_id          TEXT PRIMARY KEY,
            server_key         TEXT NOT NULL UNIQUE,
            server_secret_hash TEXT NOT NULL,
            created_at         TEXT NOT NULL
        );
        CREATE TABLE accounts (
            account_id INTEGER PRIMARY KEY,
            tenant_id  TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            status     TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX accounts_tenant ON accounts(tenant_id);
        CREATE TABLE events (
            seq            INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id       TEXT NOT NULL UNIQUE,
            org_id         TEXT NOT NULL,
            domain         TEXT NOT NULL,
            event_type     TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            cid            TEXT,
            timestamp      TEXT NOT NULL,
            data           TEXT NOT NULL
        );
        CREATE INDEX events_org_type ON events(org_id, event_type, seq);
        CREATE TABLE journal (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp    TEXT NOT NULL,
            method       TEXT NOT NULL,
            path         TEXT NOT NULL,
            operation_id TEXT,
            status       INTEGER NOT NULL,
            tenant_id    TEXT,
            account_id   INTEGER,
            cid          TEXT,
            verdict      TEXT NOT NULL,
            detail       TEXT,
            fault_rule   TEXT,
            duration_ms  REAL NOT NULL
        );
        CREATE TABLE credentials (
            tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            provider       TEXT NOT NULL,
            type           TEXT NOT NULL,
            client_id      TEXT,
            key_ciphertext BLOB NOT NULL,
            proxy_value    TEXT NOT NULL,
            token_expires_at TEXT NOT NULL,
            version        INTEGER NOT NULL,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL,
            PRIMARY KEY (tenant_id, provider, type)
        );
    """),
    ("0010_fault_rules", """
        CREATE TABLE fault_rules (
            position   INTEGER PRIMARY KEY AUTOINCREMENT,
            id         TEXT NOT NULL UNIQUE,
            rule       TEXT NOT NULL,
            matched    INTEGER NOT NULL DEFAULT 0,
            fired      INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
    """),
    ("0002_bank_accounts", """
        CREATE TABLE bank_accounts (
            id           INTEGER PRIMARY KEY,
            tenant_id    TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            account_id   INTEGER NOT NULL REFERENCES accounts(account_id) ON DELETE CASCADE,
            scheme_name  TEXT NOT NULL,
            scheme       TEXT NOT NULL,
            account_type TEXT NOT NULL,
            metadata     TEXT NOT NULL,
            status       TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DELETED')),
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL
        );
        CREATE UNIQUE INDEX bank_accounts_one_active
            ON bank_accounts (tenant_id, account_id, scheme_name) WHERE status = 'ACTIVE';
    """),
    ("0011_journal_retries", """
        ALTER TABLE journal ADD COLUMN idempotency_key TEXT;
        ALTER TABLE journal ADD COLUMN body_fingerprint TEXT;
        CREATE INDEX journal_tenant_seq ON journal(tenant_id, seq);
    """),
]

# Tables a reset keeps: the schema bookkeeping and settings (clock, generated secrets).
KEPT_BY_RESET = {"_migrations", "settings", "sqlite_sequence"}


class Store:
    """Owns the SQLite file (or a shared in-memory database for ``:memory:``)."""

    def __init__(self, path: str):
        self.path = path
        self.memory = path == ":memory:"
        self._uri = (f"file:pismo-sandbox-{uuid.uuid4().hex}?mode=memory&cache=shared"
                     if self.memory else path)
        self._local = threading.local()
        self._anchor: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=self.memory, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=True)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not self.memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's database handle, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self.memory:
                with self._lock:  # a shared-cache memory DB lives while one connection is open
                    if self._anchor is None:
                        self._anchor = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            db = sqlite_utils.Database(self._connect())
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    # -- transactions ------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        db = self.db
        if db.conn.in_transaction:  # nested: join the outer transaction
            yield db
            return
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        else:
            db.conn.execute("COMMIT")

    # -- schema ------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; safe to call from several workers at once."""
        applied_now = []
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            done = {row["name"] for row in db.query("SELECT name FROM _migrations")}
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                for statement in _split_sql(sql):
                    db.execute(statement)
                db.execute("INSERT INTO _migrations VALUES (?, datetime('now'))", [name])
                applied_now.append(name)
        return applied_now

    def wipe(self) -> None:
        """Delete every piece of simulated state (tenants, accounts, events, ...)."""
        with self.transaction() as db:
            db.execute("PRAGMA defer_foreign_keys = ON")
            for table in db.table_names():
                if table not in KEPT_BY_RESET:
                    db.execute(f'DELETE FROM "{table}"')


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
