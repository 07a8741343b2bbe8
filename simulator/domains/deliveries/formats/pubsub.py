"""The ``pubsub`` format: a Google Cloud Pub/Sub push request.

``{"message": {"attributes", "data" (base64 of the envelope), "messageId", "message_id",
"publishTime", "publish_time"}, "subscription": "projects/<project>/subscriptions/<id>"}``,
as Pub/Sub pushes it (both spellings of the message fields, as the service sends them). A
redelivery, or a duplicate, keeps the messageId; the receiver acknowledges with any 2xx
(102, 200, 201, 202, 204 in Pub/Sub's own words).
"""

from __future__ import annotations

import base64
import hashlib
import json

from pismo_sandbox.domains.deliveries.formats import Framed, Push, envelope_json

PROJECT = "pismo-sandbox"


def subscription_name(subscription_id: str) -> str:
    return f"projects/{PROJECT}/subscriptions/{subscription_id}"


def message_id(subscription_id: str, event_id: str) -> str:
    """A numeric id, as Pub/Sub's: the same for every delivery of one event to one subscription."""
    digest = hashlib.sha256(f"{subscription_id}:{event_id}".encode()).hexdigest()
    return str(int(digest[:13], 16))


def frame(push: Push, _keys: object = None) -> Framed:
    envelope = push.envelope
    assert envelope is not None, "an event push carries its envelope"
    ident = message_id(push.subscription_id, envelope["event_id"])
    data = base64.b64encode(envelope_json(envelope).encode()).decode()
    attributes = {
        "event_id": envelope["event_id"],
        "event_type": envelope["event_type"],
        "domain": envelope["domain"],
        "org_id": envelope["org_id"],
    }
    body = {
        "message": {
            "attributes": attributes,
            "data": data,
            "messageId": ident,
            "message_id": ident,
            "publishTime": envelope["timestamp"],
            "publish_time": envelope["timestamp"],
        },
        "subscription": subscription_name(push.subscription_id),
    }
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
    }
    return Framed(headers, json.dumps(body, separators=(",", ":")).encode(), ident)
