"""The event log: Pismo event envelopes, written in the caller's transaction, listed by admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from pismo_sandbox import event_schemas
from pismo_sandbox.clock import isoformat
from pismo_sandbox.ids import Ids
from pismo_sandbox.jsonio import encode_text
from pismo_sandbox.store import Store


@dataclass(frozen=True)
class EventFilter:
    org_id: str | None = None
    event_type: str | None = None
    domain: str | None = None
    cid: str | None = None
    after: int | None = None
    limit: int = 100


class EventLog:
    """Appends events in the Pismo base contract (event_id, schema_version, domain, event_type,
    org_id, cid, timestamp, data) and lists them in order."""

    def __init__(self, store: Store, ids: Ids):
        self.store = store
        self.ids = ids
        self._catch_ups: list[Callable[[], object]] = []

    def catch_up_with(self, publisher: Callable[[], object]) -> None:
        """Call ``publisher`` before every listing: a domain whose events fall due with time
        (the bank-slip lifecycle under a ticking clock) writes them first, so a reader never
        misses an event that was already due."""
        self._catch_ups.append(publisher)

    def catch_up(self) -> None:
        """Let every domain write the events already due (what a listing does first); the
        delivery worker calls it so that events falling due with time are pushed unasked."""
        for catch_up in self._catch_ups:
            catch_up()

    def publish(
        self,
        db: sqlite_utils.Database,
        *,
        org_id: str,
        domain: str,
        event: str,
        data: dict,
        cid: str | None,
        now: datetime,
        version: int = 1,
    ) -> dict:
        """Record one event inside the caller's open transaction and return its envelope."""
        envelope = self.prepare(org_id=org_id, domain=domain, event=event, data=data, cid=cid, now=now, version=version)
        self.write(db, envelope)
        return envelope

    def prepare(
        self, *, org_id: str, domain: str, event: str, data: dict, cid: str | None, now: datetime, version: int = 1
    ) -> dict:
        """The envelope of an event, checked against its schema (a bad event is never written),
        for ``write`` to record later: prepared before a transaction, it keeps the work out of
        the write lock. ``data`` may still be completed in place with values of the types the
        check saw (an id known only inside the transaction)."""
        envelope = {
            "event_id": self.ids.uuid(),
            "schema_version": version,
            "domain": domain,
            "event_type": f"{event}-{version}",
            "org_id": org_id,
            "cid": cid,
            "timestamp": isoformat(now),
            "data": data,
        }
        event_schemas.check(envelope)
        return envelope

    @staticmethod
    def write(db: sqlite_utils.Database, envelope: dict) -> None:
        """Record a prepared event inside the caller's open transaction."""
        db.execute(
            "INSERT INTO events (event_id, org_id, domain, event_type, schema_version, cid, timestamp, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                envelope["event_id"],
                envelope["org_id"],
                envelope["domain"],
                envelope["event_type"],
                envelope["schema_version"],
                envelope["cid"],
                envelope["timestamp"],
                encode_text(envelope["data"]),
            ],
        )

    def list(self, filters: EventFilter) -> list[dict]:
        for catch_up in self._catch_ups:
            catch_up()
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if filters.org_id:
            where.append("org_id = ?")
            params.append(filters.org_id)
        if filters.event_type:
            # "bankslip_status_change" matches every version, "bankslip_status_change-1" one.
            where.append("(event_type = ? OR event_type LIKE ?)")
            params += [filters.event_type, filters.event_type + "-%"]
        if filters.domain:
            where.append("domain = ?")
            params.append(filters.domain)
        if filters.cid:
            where.append("cid = ?")
            params.append(filters.cid)
        if filters.after is not None:
            where.append("seq > ?")
            params.append(filters.after)
        rows = self.store.db.query(
            f"SELECT * FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", params + [filters.limit]
        )
        return [_envelope(row) for row in rows]


def _envelope(row: dict) -> dict:
    return {"seq": row["seq"], **envelope_of(row)}


def envelope_of(row: dict) -> dict:
    """The Pismo event envelope of an event row (or of a delivery row joined with it)."""
    return {
        "event_id": row["event_id"],
        "schema_version": row["schema_version"],
        "domain": row["domain"],
        "event_type": row["event_type"],
        "org_id": row["org_id"],
        "cid": row["cid"],
        "timestamp": row["timestamp"],
        "data": json.loads(row["data"]),
    }
