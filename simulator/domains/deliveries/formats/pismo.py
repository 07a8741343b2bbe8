"""The ``pismo`` format: the event envelope itself as the JSON body, signed with the
subscription's secret.

``x-sandbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``; the
receiver recomputes it over the raw body (docs/events.md has the snippet) and may refuse a
timestamp too far from its own clock.
"""

from __future__ import annotations

import hashlib
import hmac

from pismo_sandbox.domains.deliveries.formats import Framed, Push, envelope_json

SIGNATURE_HEADER = "x-sandbox-signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether ``header`` (the x-sandbox-signature value) signs ``body`` with ``secret``."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    return hmac.compare_digest(signature(secret, int(parts["t"]), body), parts["v1"])


def frame(push: Push, _keys: object = None) -> Framed:
    assert push.envelope is not None, "an event push carries its envelope"
    body = envelope_json(push.envelope).encode()
    timestamp = int(push.now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "pismo-sandbox-delivery",
        "x-sandbox-event-id": push.envelope["event_id"],
        "x-sandbox-event-type": push.envelope["event_type"],
        "x-sandbox-delivery-id": push.delivery_id,
        "x-sandbox-delivery-attempt": str(push.attempt),
        SIGNATURE_HEADER: f"t={timestamp},v1={signature(push.secret or '', timestamp, body)}",
    }
    return Framed(headers, body, push.envelope["event_id"])
