"""A request journal row as the gateway writes one, for tests of the journal's storage."""

from __future__ import annotations

import time


def journal_row(cid: str, **changes: object) -> dict:
    """A plain answered GET with this correlation id; ``changes`` replace any column."""
    return {
        "timestamp": "2030-01-01T00:00:00Z",
        "method": "GET",
        "path": "/x",
        "operation_id": None,
        "status": 200,
        "tenant_id": None,
        "account_id": None,
        "cid": cid,
        "verdict": "ok",
        "detail": None,
        "fault_rule": None,
        "duration_ms": 1.0,
        "idempotency_key": None,
        "body_fingerprint": None,
        "code": None,
        "replayed": 0,
        "answered": time.time_ns(),
        **changes,
    }
