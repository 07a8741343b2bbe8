"""The floor for `make bench`: a credential upsert on this stack (Flask, PyJWT, the compiled
validator, marshmallow, cryptography, SQLite) that keeps the sandbox's promises, written as
plainly as possible. It was meant as the least any implementation on this stack could do; since
the simulator writes its journal off the request path and a credential in one statement, it
serves credentials faster than this (bench/README.md), so the floor now shows what plain code
with synchronous writes costs, not a bound.

Per request, as the simulator does but with nothing around it: the bearer token verified and
its tenant looked up; the body checked against the bundled document's request schema
(jsonschema-rs) and loaded by the simulator's marshmallow schema; the key sealed with AES-GCM;
one ``BEGIN IMMEDIATE`` transaction that reads the credential and upserts it; a journal row
committed in a file of its own before the answer; an access-log line. Left out, and all cheaper
for it: path matching against the contract, response validation, error envelopes, fault rules,
correlation ids, the key's round-trip check, the token exchange, the virtual clock,
sqlite-utils.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime
from importlib import resources

import jsonschema_rs
import jwt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Response, g, request

from pismo_sandbox.domains.credentials.schemas import UpsertCredentialSchema

PATH = "/banking-auth/v1/credentials"
access_log = logging.getLogger("bench.floor")


def request_validator() -> jsonschema_rs.Validator:
    """The compiled validator of the credential request schema in the bundled document."""
    document = json.loads((resources.files("pismo_sandbox.contracts") / "openapi" / "banking-auth.v1.json").read_text())
    return jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/PostCreateRequest", "components": document["components"]}
    )


class Files:
    """One connection per thread to the state and to the journal (WAL, no fsync: the
    simulator's defaults), opened on first use, after the server worker forks."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        self.local = threading.local()

    def _open(self, path: str) -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, timeout=15)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        return conn

    @property
    def state(self) -> sqlite3.Connection:
        return self._connection(self.db_path)

    @property
    def journal(self) -> sqlite3.Connection:
        return self._connection(self.db_path + ".journal")

    def _connection(self, path: str) -> sqlite3.Connection:
        opened = self.local.__dict__.setdefault("connections", {})
        if path not in opened:
            opened[path] = self._open(path)
        return opened[path]


def prepare(db_path: str, tenant_id: str) -> None:
    """Create the tables and the tenant the bench's token names."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript("""
            CREATE TABLE IF NOT EXISTS tenants (tenant_id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS credentials (
                tenant_id TEXT NOT NULL, provider TEXT NOT NULL, type TEXT NOT NULL,
                key_ciphertext BLOB NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL,
                PRIMARY KEY (tenant_id, provider, type));
        """)
        conn.execute("INSERT OR IGNORE INTO tenants VALUES (?, ?)", (tenant_id, "2026-01-01T00:00:00Z"))
    with closing(sqlite3.connect(db_path + ".journal")) as conn, conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("""CREATE TABLE IF NOT EXISTS journal (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, method TEXT NOT NULL,
            path TEXT NOT NULL, status INTEGER NOT NULL, tenant_id TEXT, duration_ms REAL NOT NULL)""")


def _log_as_the_simulator_does() -> None:
    """An access line per request on stderr, formatted as the simulator's own."""
    logging._srcfile = None
    logging.logMultiprocessing = False
    if not access_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)


def create_floor(db_path: str, secret: str) -> Flask:
    _log_as_the_simulator_does()
    app = Flask("floor")
    files = Files(db_path)
    validator = request_validator()
    upsert = UpsertCredentialSchema()  # the simulator's own request schema
    box = AESGCM(AESGCM.generate_key(bit_length=256))

    @app.before_request
    def started() -> None:
        g.started = time.perf_counter()
        g.tenant_id = None

    @app.post(PATH)
    def credentials() -> tuple[dict, int] | Response:
        try:
            claims = jwt.decode(
                request.headers.get("Authorization", "")[len("Bearer ") :], secret, algorithms=["HS256"]
            )
        except jwt.PyJWTError:
            return {"code": "UNAUTHORIZED"}, 401
        tenant = files.state.execute(
            "SELECT tenant_id FROM tenants WHERE tenant_id = ?", (claims.get("tenant_id"),)
        ).fetchone()
        if tenant is None:
            return {"code": "UNAUTHORIZED"}, 401
        g.tenant_id = tenant[0]
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not validator.is_valid(body):
            return {"code": "EBAA0005"}, 400
        command = upsert.load(body)
        slot = (g.tenant_id, command.provider, command.type)
        nonce = os.urandom(12)  # stored with the ciphertext, as the simulator stores it
        sealed = nonce + box.encrypt(nonce, command.key.encode(), "|".join(slot).encode())
        db = files.state
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT version FROM credentials WHERE tenant_id = ? AND provider = ? AND type = ?", slot
            ).fetchone()
            db.execute(
                "INSERT INTO credentials VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
                " key_ciphertext = excluded.key_ciphertext, version = excluded.version,"
                " updated_at = excluded.updated_at",
                (*slot, sealed, row[0] + 1 if row else 1, _now()),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return Response(status=201)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.after_request
    def journal(response: Response) -> Response:
        duration_ms = (time.perf_counter() - g.started) * 1000
        files.journal.execute(
            "INSERT INTO journal (timestamp, method, path, status, tenant_id, duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), request.method, request.path, response.status_code, g.tenant_id, duration_ms),
        )
        access_log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration_ms)
        return response

    return app


def _now() -> str:
    return datetime.now(UTC).isoformat()


def app_from_environment() -> Flask:
    """The app a served worker loads: database and token secret from the bench's environment."""
    return create_floor(os.environ["BENCH_FLOOR_DB"], os.environ["BENCH_FLOOR_SECRET"])
