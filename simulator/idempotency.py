"""Idempotency keys: key scope, keyed request fingerprint, in-flight detection, replay.

Rules (README, "Idempotency rules"):

* A key is scoped by (tenant, account, key): two accounts may use the same key independently.
* The request is remembered as a keyed fingerprint (HMAC) of its canonical JSON (the validated
  body, the operation, and the headers that change its meaning), never as the request itself.
* ``claim`` runs in its own committed BEGIN IMMEDIATE transaction, so a concurrent request with
  the same key sees the row at once (a request that does all its work in one transaction may
  instead record the key and its answer at the end of that transaction with ``complete_new``:
  the key is then never seen in flight, and a concurrent request waits for the write lock,
  then finds the key taken and replays): a different fingerprint is a conflict (409
  IDEMPOTENCY_CONFLICT), the same one while the first is still running is in flight (409
  IDEMPOTENCY_IN_FLIGHT), the same one after it completed is a replay of the stored status and
  body, marked by the ``x-idempotency-replayed: true`` header.
* The caller records the response with ``complete`` inside the same transaction that commits
  its effect, so "effect committed, answer lost" always replays, never repeats. A request that
  fails commits nothing and ``release``s the key: errors never spend a key.
* A claim is a lease: if the process holding it dies before completing, the key is in flight
  for at most ``LEASE_SECONDS`` of real time, then a retry takes it over.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from collections.abc import Callable
from typing import Any
from json.encoder import encode_basestring_ascii as _string  # what json.dumps(str) calls

from pismo_sandbox.crypto import Fingerprinter
from pismo_sandbox.errors import SandboxError
from pismo_sandbox.store import Database, Store

REPLAY_HEADER = "x-idempotency-replayed"
_EXACT = 10**28  # whole numbers the default Decimal context holds exactly
LEASE_SECONDS = 60.0
MAX_KEY_LENGTH = 255
IN_FLIGHT, COMPLETED = "in_flight", "completed"


class IdempotencyConflict(SandboxError):
    status, code = 409, "IDEMPOTENCY_CONFLICT"
    message = "Idempotency key already used for a different request"


class IdempotencyInFlight(SandboxError):
    status, code = 409, "IDEMPOTENCY_IN_FLIGHT"
    message = "A request with this idempotency key is still being processed"


@dataclass(frozen=True)
class Scope:
    tenant_id: str
    account_id: int | None
    key: str
    operation_id: str

    @property
    def account_scope(self) -> str:
        return "" if self.account_id is None else str(self.account_id)


@dataclass(frozen=True)
class Claim:
    """This request owns the key until it completes or releases it."""

    scope: Scope
    fingerprint: str
    lease: str


@dataclass(frozen=True)
class Unclaimed:
    """A key taken to be new: recorded with its answer by ``complete_new`` at the end of the
    transaction that does the request's work (``KeyTaken`` if it was not new after all)."""

    scope: Scope
    fingerprint: str


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str  # the JSON text exactly as first sent
    replayed: bool


class KeyTaken(Exception):
    """``complete_new`` found the key already recorded (a request with it committed first): the
    caller's transaction must roll back, and the key answers as for any known key."""


def canonical_json(value: Any) -> str:
    """One text per meaning: sorted keys, no spaces, numbers normalised (100 == 100.0).

    Strings are written as ``json.dumps`` writes them (its own C function, called directly);
    a whole number is its digits, as its normalised Decimal would print (below 10**28, where
    the Decimal context's 28 digits start rounding it). The text never changes between
    versions: a key recorded before an upgrade matches its retry after it."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int and -_EXACT < value < _EXACT:
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(_string(str(k)) + ":" + canonical_json(value[k]) for k in sorted(value, key=str)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number.is_finite() else json.dumps(str(number))
    if isinstance(value, (datetime, date)):
        return json.dumps(value.isoformat())
    return json.dumps(str(value))


def request_fingerprint(fingerprint: Fingerprinter, operation_id: str, body: Any, headers: dict | None = None) -> str:
    """Keyed HMAC of the canonical request: comparable, and useless without the sandbox key."""
    return fingerprint(canonical_json({"operation": operation_id, "body": body, "headers": headers or {}}))


class IdempotencyKeys:
    def __init__(self, store: Store, wall: Callable[[], float] = time.time, lease_seconds: float = LEASE_SECONDS):
        self.store = store
        self.wall = wall  # leases measure real time: the sandbox clock may be frozen
        self.lease_seconds = lease_seconds

    def claim(self, scope: Scope, fingerprint: str, now: str) -> Claim | StoredResponse:
        """Take the key in a transaction of its own (committed: a concurrent request with the
        same key sees it in flight), or replay its stored response, or raise a 409."""
        with self.store.transaction() as db:
            row = self._get(db, scope)
            lease = secrets.token_hex(16)
            expires = self.wall() + self.lease_seconds
            if row is None:
                db.execute(
                    "INSERT INTO idempotency_keys (tenant_id, account_scope, idempotency_key,"
                    " operation_id, fingerprint, state, lease_token, lease_expires_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        scope.tenant_id,
                        scope.account_scope,
                        scope.key,
                        scope.operation_id,
                        fingerprint,
                        IN_FLIGHT,
                        lease,
                        expires,
                        now,
                    ],
                )
                return Claim(scope, fingerprint, lease)
            if not secrets.compare_digest(row["fingerprint"], fingerprint):
                raise IdempotencyConflict(
                    details="this x-idempotency-key was first used with a different request;"
                    " use a new key for a new request"
                )
            if row["state"] == COMPLETED:
                return StoredResponse(row["response_status"], row["response_body"], replayed=True)
            if row["lease_expires_at"] > self.wall():
                raise IdempotencyInFlight(
                    details="the first request with this x-idempotency-key has not finished; retry after it has"
                )
            # The request holding the key died without an answer (and committed nothing).
            db.execute(
                "UPDATE idempotency_keys SET lease_token = ?, lease_expires_at = ?"
                " WHERE tenant_id = ? AND account_scope = ? AND idempotency_key = ?",
                [lease, expires, *self._pk(scope)],
            )
            return Claim(scope, fingerprint, lease)

    def complete(self, db: Database, claim: Claim, status: int, body: str, now: str) -> None:
        """Record the response, inside the transaction that commits the request's effect."""
        cursor = db.execute(
            "UPDATE idempotency_keys SET state = ?, response_status = ?, response_body = ?,"
            " completed_at = ?, lease_token = NULL, lease_expires_at = NULL"
            " WHERE tenant_id = ? AND account_scope = ? AND idempotency_key = ? AND state = ?"
            " AND lease_token = ?",
            [COMPLETED, status, body, now, *self._pk(claim.scope), IN_FLIGHT, claim.lease],
        )
        if cursor.rowcount != 1:  # our lease expired and a retry took the key over
            raise IdempotencyInFlight(details="another request with this x-idempotency-key took it over")

    def complete_new(self, db: Database, unclaimed: Unclaimed, status: int, body: str, now: str) -> None:
        """Record a new key with its response, inside the transaction that commits the
        request's effect, in one statement; ``KeyTaken`` when the key is there already (in
        flight, completed, or used for another request): nothing is changed then."""
        scope = unclaimed.scope
        cursor = db.execute(
            "INSERT INTO idempotency_keys (tenant_id, account_scope, idempotency_key, operation_id,"
            " fingerprint, state, response_status, response_body, created_at, completed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [*self._pk(scope), scope.operation_id, unclaimed.fingerprint, COMPLETED, status, body, now, now],
        )
        if cursor.rowcount != 1:
            raise KeyTaken()

    def release(self, claim: Claim) -> None:
        """Give the key back (the request failed and committed nothing)."""
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM idempotency_keys WHERE tenant_id = ? AND account_scope = ?"
                " AND idempotency_key = ? AND state = ? AND lease_token = ?",
                [*self._pk(claim.scope), IN_FLIGHT, claim.lease],
            )

    def get(self, scope: Scope) -> dict | None:
        return self._get(self.store.db, scope)

    def _get(self, db: Database, scope: Scope) -> dict | None:
        rows = list(
            db.query(
                "SELECT * FROM idempotency_keys WHERE tenant_id = ? AND account_scope = ? AND idempotency_key = ?",
                self._pk(scope),
            )
        )
        return rows[0] if rows else None

    @staticmethod
    def _pk(scope: Scope) -> list:
        return [scope.tenant_id, scope.account_scope, scope.key]
