"""The only module that opens the database: connections, schema migrations, transactions.

SQLite in WAL mode with a busy timeout and no fsync by default (``synchronous``: a crashed
simulator loses nothing committed; an operating-system crash may); one connection per thread,
opened lazily so that no connection exists before a server worker forks. Read-modify-write
paths use ``transaction()``, which is ``BEGIN IMMEDIATE``: the write lock is taken up front,
so two workers never interleave a read and a write of the same rows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, NoReturn

import sqlite_utils
from sqlite_utils.utils import dedupe_keys

from pismo_sandbox.config import SYNCHRONOUS_LEVELS
from pismo_sandbox.file_lock import FileLock

BUSY_TIMEOUT_MS = 15_000
# How long a writer waits for the writer lock by default (Config.write_lock_timeout_seconds).
WRITE_LOCK_TIMEOUT_S = 10.0

log = logging.getLogger("pismo_sandbox")


class WriterLockTimeout(Exception):
    """The writer lock could not be had in time (another writer is stuck or stopped)."""


# Append-only: each entry runs once per database, in order, inside one transaction.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_core",
        """
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
    """,
    ),
    (
        "0010_fault_rules",
        """
        CREATE TABLE fault_rules (
            position   INTEGER PRIMARY KEY AUTOINCREMENT,
            id         TEXT NOT NULL UNIQUE,
            rule       TEXT NOT NULL,
            matched    INTEGER NOT NULL DEFAULT 0,
            fired      INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
    """,
    ),
    (
        "0002_bank_accounts",
        """
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
    """,
    ),
    (
        "0011_journal_retries",
        """
        ALTER TABLE journal ADD COLUMN idempotency_key TEXT;
        ALTER TABLE journal ADD COLUMN body_fingerprint TEXT;
        CREATE INDEX journal_tenant_seq ON journal(tenant_id, seq);
    """,
    ),
    (
        "0003_idempotency",
        """
        CREATE TABLE idempotency_keys (
            tenant_id        TEXT NOT NULL,
            account_scope    TEXT NOT NULL,
            idempotency_key  TEXT NOT NULL,
            operation_id     TEXT NOT NULL,
            fingerprint      TEXT NOT NULL,
            state            TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
            lease_token      TEXT,
            lease_expires_at REAL,
            response_status  INTEGER,
            response_body    TEXT,
            created_at       TEXT NOT NULL,
            completed_at     TEXT,
            PRIMARY KEY (tenant_id, account_scope, idempotency_key)
        );
    """,
    ),
    (
        "0004_bankslips",
        """
        CREATE TABLE bankslip_providers (
            tenant_id  TEXT PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            provider   TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE bankslip_scenarios (
            bar_code   TEXT PRIMARY KEY,
            fine       TEXT,
            interest   TEXT,
            discount   TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE bankslip_validations (
            tenant_id              TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            account_id             INTEGER NOT NULL,
            bar_code               TEXT NOT NULL,
            provider               TEXT NOT NULL,
            external_authorization TEXT,
            amount                 TEXT,
            original_amount        TEXT,
            fine                   TEXT,
            interest               TEXT,
            discount               TEXT,
            validated_at           TEXT NOT NULL,
            expires_at             TEXT NOT NULL,
            PRIMARY KEY (tenant_id, account_id, bar_code)
        );
        CREATE TABLE bankslip_payments (
            authorization_id          INTEGER PRIMARY KEY,
            tenant_id                 TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            account_id                INTEGER NOT NULL,
            provider                  TEXT NOT NULL,
            provider_id               TEXT NOT NULL,
            authorization_code        TEXT NOT NULL,
            external_authorization    TEXT,
            type                      INTEGER NOT NULL,
            bar_code                  TEXT NOT NULL,
            digitable_line            TEXT NOT NULL,
            amount                    TEXT NOT NULL,
            original_amount           TEXT,
            fine                      TEXT,
            interest                  TEXT,
            discount                  TEXT,
            due_date                  TEXT,
            beneficiary_name          TEXT NOT NULL,
            beneficiary_document      TEXT NOT NULL,
            beneficiary_document_type TEXT NOT NULL,
            status                    TEXT NOT NULL CHECK (status IN
                ('PROCESSING', 'PAID', 'SETTLED', 'ERROR', 'TIMEOUT', 'CANCELLED')),
            outcome                   TEXT NOT NULL,
            next_at                   TEXT,
            skip_reconciliation       INTEGER NOT NULL,
            idempotency_key           TEXT,
            cid                       TEXT,
            payment_at                TEXT NOT NULL,
            updated_at                TEXT NOT NULL
        );
        CREATE INDEX bankslip_payments_receipts
            ON bankslip_payments (tenant_id, account_id, payment_at, authorization_id);
        CREATE INDEX bankslip_payments_tenant ON bankslip_payments (tenant_id, authorization_id);
        CREATE INDEX bankslip_payments_due ON bankslip_payments (next_at) WHERE next_at IS NOT NULL;
        CREATE UNIQUE INDEX bankslip_payments_one_active ON bankslip_payments (tenant_id, bar_code)
            WHERE status IN ('PROCESSING', 'PAID', 'SETTLED');
        CREATE TABLE bankslip_status_history (
            authorization_id INTEGER NOT NULL
                REFERENCES bankslip_payments(authorization_id) ON DELETE CASCADE,
            seq              INTEGER NOT NULL,
            old_status       TEXT,
            new_status       TEXT NOT NULL,
            at               TEXT NOT NULL,
            PRIMARY KEY (authorization_id, seq)
        );
    """,
    ),
    (
        "0012_journal_outcome",
        """
        ALTER TABLE journal ADD COLUMN code TEXT;
        ALTER TABLE journal ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;
    """,
    ),
    # The request journal moved to a file of its own (JOURNAL_MIGRATIONS): its commits, one per
    # request, no longer take the state's write lock nor discard other connections' page caches.
    (
        "0013_journal_in_its_own_file",
        """
        DROP TABLE journal;
    """,
    ),
    # Event delivery: subscriptions (each with a cursor into the event log), the outbox of
    # deliveries derived from it, every attempt, and the delivery fault rules.
    (
        "0014_deliveries",
        """
        CREATE TABLE subscriptions (
            subscription_id TEXT PRIMARY KEY,
            url             TEXT NOT NULL,
            format          TEXT NOT NULL,
            filter          TEXT NOT NULL,
            secret          BLOB,
            retry           TEXT NOT NULL,
            status          TEXT NOT NULL CHECK (status IN ('active', 'pending_confirmation')),
            confirm_token   TEXT,
            public_base     TEXT NOT NULL,
            cursor          INTEGER NOT NULL,
            created_at      TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            seq             INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_id     TEXT NOT NULL UNIQUE,
            subscription_id TEXT NOT NULL REFERENCES subscriptions(subscription_id) ON DELETE CASCADE,
            kind            TEXT NOT NULL CHECK (kind IN ('event', 'confirmation')),
            event_seq       INTEGER,
            event_id        TEXT,
            event_type      TEXT,
            copy            INTEGER NOT NULL DEFAULT 0,
            status          TEXT NOT NULL CHECK (status IN ('held', 'pending', 'delivered', 'failed')),
            attempts        INTEGER NOT NULL DEFAULT 0,
            due_at          REAL NOT NULL,
            ordinal         INTEGER NOT NULL DEFAULT 0,
            lease_owner     TEXT,
            lease_until     REAL,
            fault_rule      TEXT,
            fault_action    TEXT,
            drops_left      INTEGER NOT NULL DEFAULT 0,
            held_until      REAL,
            created_at      TEXT NOT NULL,
            updated_at      TEXT NOT NULL
        );
        CREATE INDEX deliveries_due ON deliveries (status, due_at, ordinal, seq);
        CREATE INDEX deliveries_event ON deliveries (event_id);
        CREATE INDEX deliveries_subscription ON deliveries (subscription_id, seq);
        CREATE TABLE delivery_attempts (
            seq          INTEGER PRIMARY KEY AUTOINCREMENT,
            delivery_id  TEXT NOT NULL REFERENCES deliveries(delivery_id) ON DELETE CASCADE,
            attempt      INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            outcome      TEXT NOT NULL,
            http_status  INTEGER,
            error        TEXT,
            latency_ms   REAL,
            fault_rule   TEXT,
            fault_action TEXT
        );
        CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt);
        CREATE TABLE delivery_fault_rules (
            position   INTEGER PRIMARY KEY AUTOINCREMENT,
            id         TEXT NOT NULL UNIQUE,
            rule       TEXT NOT NULL,
            matched    INTEGER NOT NULL DEFAULT 0,
            fired      INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
    """,
    ),
    # A credential's proxy value is a function of the credential and its version
    # (providers.proxy_value), worked out where credentials are listed: the upsert no longer
    # calls back into Python from inside its statement to store it. Rebuilt, as SQLite before
    # 3.35 cannot drop a column; nothing references the table.
    (
        "0015_credential_proxy_value_derived",
        """
        CREATE TABLE credentials_0015 (
            tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            provider       TEXT NOT NULL,
            type           TEXT NOT NULL,
            client_id      TEXT,
            key_ciphertext BLOB NOT NULL,
            token_expires_at TEXT NOT NULL,
            version        INTEGER NOT NULL,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL,
            PRIMARY KEY (tenant_id, provider, type)
        );
        INSERT INTO credentials_0015 (tenant_id, provider, type, client_id, key_ciphertext, token_expires_at,
            version, created_at, updated_at)
            SELECT tenant_id, provider, type, client_id, key_ciphertext, token_expires_at, version, created_at,
                updated_at FROM credentials;
        DROP TABLE credentials;
        ALTER TABLE credentials_0015 RENAME TO credentials;
    """,
    ),
    # Tables keyed by their PRIMARY KEY alone are stored in it (WITHOUT ROWID): a row written is
    # one B-tree changed instead of two (the table and its key's index), each page of which a
    # served write reads again and writes to the WAL (bench/README.md, "The fifteenth round").
    # Same columns, keys and rows; nothing reads their rowids.
    (
        "0016_keyed_tables_without_rowid",
        """
        CREATE TABLE credentials_0016 (
            tenant_id      TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            provider       TEXT NOT NULL,
            type           TEXT NOT NULL,
            client_id      TEXT,
            key_ciphertext BLOB NOT NULL,
            token_expires_at TEXT NOT NULL,
            version        INTEGER NOT NULL,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL,
            PRIMARY KEY (tenant_id, provider, type)
        ) WITHOUT ROWID;
        INSERT INTO credentials_0016 SELECT tenant_id, provider, type, client_id, key_ciphertext,
            token_expires_at, version, created_at, updated_at FROM credentials;
        DROP TABLE credentials;
        ALTER TABLE credentials_0016 RENAME TO credentials;
        CREATE TABLE idempotency_keys_0016 (
            tenant_id        TEXT NOT NULL,
            account_scope    TEXT NOT NULL,
            idempotency_key  TEXT NOT NULL,
            operation_id     TEXT NOT NULL,
            fingerprint      TEXT NOT NULL,
            state            TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
            lease_token      TEXT,
            lease_expires_at REAL,
            response_status  INTEGER,
            response_body    TEXT,
            created_at       TEXT NOT NULL,
            completed_at     TEXT,
            PRIMARY KEY (tenant_id, account_scope, idempotency_key)
        ) WITHOUT ROWID;
        INSERT INTO idempotency_keys_0016 SELECT tenant_id, account_scope, idempotency_key, operation_id,
            fingerprint, state, lease_token, lease_expires_at, response_status, response_body, created_at,
            completed_at FROM idempotency_keys;
        DROP TABLE idempotency_keys;
        ALTER TABLE idempotency_keys_0016 RENAME TO idempotency_keys;
        CREATE TABLE bankslip_validations_0016 (
            tenant_id              TEXT NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
            account_id             INTEGER NOT NULL,
            bar_code               TEXT NOT NULL,
            provider               TEXT NOT NULL,
            external_authorization TEXT,
            amount                 TEXT,
            original_amount        TEXT,
            fine                   TEXT,
            interest               TEXT,
            discount               TEXT,
            validated_at           TEXT NOT NULL,
            expires_at             TEXT NOT NULL,
            PRIMARY KEY (tenant_id, account_id, bar_code)
        ) WITHOUT ROWID;
        INSERT INTO bankslip_validations_0016 SELECT tenant_id, account_id, bar_code, provider,
            external_authorization, amount, original_amount, fine, interest, discount, validated_at,
            expires_at FROM bankslip_validations;
        DROP TABLE bankslip_validations;
        ALTER TABLE bankslip_validations_0016 RENAME TO bankslip_validations;
        CREATE TABLE bankslip_status_history_0016 (
            authorization_id INTEGER NOT NULL
                REFERENCES bankslip_payments(authorization_id) ON DELETE CASCADE,
            seq              INTEGER NOT NULL,
            old_status       TEXT,
            new_status       TEXT NOT NULL,
            at               TEXT NOT NULL,
            PRIMARY KEY (authorization_id, seq)
        ) WITHOUT ROWID;
        INSERT INTO bankslip_status_history_0016 SELECT authorization_id, seq, old_status, new_status, at
            FROM bankslip_status_history;
        DROP TABLE bankslip_status_history;
        ALTER TABLE bankslip_status_history_0016 RENAME TO bankslip_status_history;
    """,
    ),
]

# The request journal's file (journal_path): its one table, as the main file's stood after 0012.
JOURNAL_MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_journal",
        """
        CREATE TABLE journal (
            seq              INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp        TEXT NOT NULL,
            method           TEXT NOT NULL,
            path             TEXT NOT NULL,
            operation_id     TEXT,
            status           INTEGER NOT NULL,
            tenant_id        TEXT,
            account_id       INTEGER,
            cid              TEXT,
            verdict          TEXT NOT NULL,
            detail           TEXT,
            fault_rule       TEXT,
            duration_ms      REAL NOT NULL,
            idempotency_key  TEXT,
            body_fingerprint TEXT,
            code             TEXT,
            replayed         INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX journal_tenant_seq ON journal(tenant_id, seq);
    """,
    ),
    # Rows are listed in the order their answers left, not the order their batches were
    # committed: two workers' writer threads can commit out of answer order under load.
    (
        "0002_journal_answer_order",
        """
        ALTER TABLE journal ADD COLUMN answered INTEGER;
        DROP INDEX journal_tenant_seq;
        CREATE INDEX journal_answered ON journal(answered);
        CREATE INDEX journal_tenant_answered ON journal(tenant_id, answered);
    """,
    ),
]


def journal_path(db_path: str) -> str:
    """Where the request journal of the database at ``db_path`` lives: sandbox.db ->
    sandbox.journal.db, next to it (``:memory:`` stays in memory)."""
    if db_path == ":memory:":
        return db_path
    root, ext = os.path.splitext(db_path)
    return f"{root}.journal{ext}" if ext else f"{db_path}.journal.db"


# Tables a reset keeps: the schema bookkeeping and settings (clock, generated secrets).
KEPT_BY_RESET = {"_migrations", "settings", "sqlite_sequence"}
# Settings key counting resets: caches of simulated state are valid for one generation.
GENERATION = "state.generation"


class Database(sqlite_utils.Database):
    """sqlite-utils' handle, with plain reads.

    ``sqlite_utils.Database.query`` wraps every statement in a savepoint so that a statement
    which turns out not to return rows can be undone; outside a transaction that makes each
    read a begin/commit pair. A SELECT changes nothing, so it runs bare here; anything else
    keeps the library's guard.
    """

    def query(self, sql: str, params: Sequence | dict[str, Any] | None = None) -> Generator[dict, None, None]:
        if sql.lstrip()[:6].upper() != "SELECT":
            return super().query(sql, params)
        cursor = self.conn.execute(sql, params if params is not None else ())
        keys = dedupe_keys(d[0] for d in cursor.description)
        return (dict(zip(keys, row)) for row in cursor)


class Store:
    """Owns the SQLite file (or a shared in-memory database for ``:memory:``)."""

    def __init__(
        self,
        path: str,
        synchronous: str = "OFF",
        migrations: list[tuple[str, str]] | None = None,
        lock_timeout: float = WRITE_LOCK_TIMEOUT_S,
    ):
        if synchronous.upper() not in SYNCHRONOUS_LEVELS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}, not {synchronous!r}")
        self.path = path
        self.synchronous = synchronous.upper()
        self.migrations = MIGRATIONS if migrations is None else migrations
        self.memory = path == ":memory:"
        self._uri = f"file:pismo-sandbox-{uuid.uuid4().hex}?mode=memory&cache=shared" if self.memory else path
        self._local = threading.local()
        self._anchor: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._thread_writer = threading.Lock()
        self._file_lock: FileLock | None = None  # opened lazily: never inherited across a fork
        self._file_lock_pid = 0
        self.lock_timeout = lock_timeout
        # What to call once a write that changed a topic commits (Store.changed; the topics and
        # their counters: change_counters).
        self.on_commit: dict[str, Callable[[], None]] = {}

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._uri, uri=self.memory, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=True
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if not self.memory:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        return conn

    @property
    def db(self) -> Database:
        """This thread's database handle, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self.memory:
                with self._lock:  # a shared-cache memory DB lives while one connection is open
                    if self._anchor is None:
                        self._anchor = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            db = Database(self._connect())
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None
        if self._file_lock is not None:
            self._file_lock.close()
            self._file_lock = None

    # -- transactions ------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        db = self.db
        if db.conn.in_transaction:  # nested: join the outer transaction
            yield db
            return
        with self._writer():
            db.conn.execute("BEGIN IMMEDIATE")
            self._local.changed = set()
            try:
                yield db
            except BaseException:
                self._local.changed = set()
                db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")
                changed, self._local.changed = self._local.changed, set()
                for topic in changed:  # before the lock is let go: the next writer sees it counted
                    self._committed(topic)

    def changed(self, topic: str) -> None:
        """Note that the current write changed ``topic`` (change_counters): once it commits,
        ``on_commit[topic]`` is called; outside a transaction (a write of one statement, already
        committed), right away."""
        if self.db.conn.in_transaction:
            self._local.changed.add(topic)  # transaction() made the set
        else:
            self._committed(topic)

    def _committed(self, topic: str) -> None:
        callback = self.on_commit.get(topic)
        if callback is not None:
            callback()

    def write_one(self, sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> sqlite3.Cursor:
        """One statement in its own (implicit) transaction, queued on the writer lock as
        ``transaction()`` is: half the round trips of BEGIN IMMEDIATE ... COMMIT around it."""
        db = self.db
        if db.conn.in_transaction:
            return db.conn.execute(sql, params)
        with self._writer():
            return db.conn.execute(sql, params)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """Queue writers on a lock before SQLite sees them, for at most ``lock_timeout`` seconds.

        SQLite's busy handler waits for a locked database by sleeping in growing steps (up to
        100 ms), which turns contention between workers into long tails. Writers here wait on a
        thread lock and an flock on "<db>.lock" instead (file_lock.FileLock: taken the moment it
        is free, waited for at most the bound), and the busy timeout remains for anything else that
        writes to the file. A writer that cannot
        have the lock in time raises WriterLockTimeout (the gateway answers 503/504) and logs who
        holds it (the kernel's table of locks names the process). A holder that kept the lock longer
        than the bound logs that too, once it lets go (a stopped worker, when it resumes).
        """
        if not self._thread_writer.acquire(timeout=self.lock_timeout):
            self._stalled("a thread of this process")
        try:
            if self.memory:
                yield
                return
            lock = self._process_lock()
            if not lock.acquire(self.lock_timeout):
                self._stalled(self._holder())
            taken = time.monotonic()
            try:
                yield
            finally:
                lock.release()
                held = time.monotonic() - taken
                if held > self.lock_timeout:
                    log.warning(
                        "process %d held the writer lock of %s for %.1f s (over the %.1f s bound: was it stopped?)",
                        os.getpid(),
                        self.path,
                        held,
                        self.lock_timeout,
                    )
        finally:
            self._thread_writer.release()

    def _process_lock(self) -> FileLock:
        if self._file_lock is None or self._file_lock_pid != os.getpid():
            self._file_lock = FileLock(self.path + ".lock")
            self._file_lock_pid = os.getpid()
        return self._file_lock

    def _holder(self) -> str:
        """Who holds the lock, from the kernel's table of locks (Linux), else "another process"."""
        try:
            st = os.fstat(self._process_lock().fd)
            inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
            with open("/proc/locks") as table:  # "1: FLOCK  ADVISORY  WRITE <pid> <dev:inode> 0 EOF"
                for line in table:
                    fields = line.split()
                    if "->" not in fields and fields[1:2] == ["FLOCK"] and fields[5:6] == [inode]:
                        return f"process {fields[4]}"
        except OSError:
            pass
        return "another process"

    def _stalled(self, holder: str) -> NoReturn:
        log.error(
            "writer lock of %s not free after %.1f s: held by %s, which has stalled (stopped or stuck); answering 503",
            self.path,
            self.lock_timeout,
            holder,
        )
        raise WriterLockTimeout(f"the writer lock of {self.path} was not free within {self.lock_timeout:g} s")

    # -- schema ------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations; safe to call from several workers at once."""
        applied_now = []
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            done = {row["name"] for row in db.query("SELECT name FROM _migrations")}
            for name, sql in self.migrations:
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
            db.execute(
                "INSERT INTO settings (key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE"
                " SET value = CAST(value AS INTEGER) + 1",
                [GENERATION],
            )
            for topic in self.on_commit:  # every cached read is stale
                self.changed(topic)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
