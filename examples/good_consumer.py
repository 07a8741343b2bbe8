#!/usr/bin/env python3
"""A well-behaved consumer of Pismo events (pismo format), small enough to read in one sitting.

What makes it well behaved:
* it verifies the x-sandbox-signature of every push (when it knows the secret) and refuses a
  push whose signature is wrong;
* it deduplicates by event_id: delivery is at least once, so the same event may arrive twice
  (a duplicate, or a retry of an answer that was lost); the second time it is acknowledged
  and not applied again;
* it never lets a late event move a payment backwards: a status change is applied only if it
  moves the payment forward (PROCESSING -> PAID -> SETTLED), so reordered events end in the
  right state;
* it writes its ledger before answering 2xx, so an acknowledged event is never lost.

The ledger (JSON, rewritten atomically after every event): {"applied": [event ids, in the order
applied], "payments": {authorization id: {"amount", "status", "reconciled"}}, "total": sum of
the amounts of the payments it knows}.

Usage: good_consumer.py --port PORT --ledger FILE [--secret SECRET]
(or PISMO_CONSUMER_PORT, PISMO_CONSUMER_LEDGER, PISMO_CONSUMER_SECRET). Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RANK = {"PROCESSING": 0, "PAID": 1, "SETTLED": 2, "ERROR": 2, "TIMEOUT": 2, "CANCELLED": 2}


def signature_ok(secret: str | None, header: str, body: bytes) -> bool:
    if not secret:
        return True
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit():
        return False
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Ledger:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"applied": [], "payments": {}, "total": "0"}

    def apply(self, event: dict) -> bool:
        """Apply an event once; False when it was already applied (a duplicate)."""
        with self.lock:
            if event["event_id"] in self.state["applied"]:
                return False
            data = event["data"]
            kind = event["event_type"].rsplit("-", 1)[0]
            if kind == "authorization-event":
                auth = str(data["authorization"]["id"])
                payment = self.state["payments"].setdefault(auth, {"status": "PROCESSING", "reconciled": False})
                payment["amount"] = str(data["amount"])
            elif kind == "bankslip_status_change":
                payment = self.state["payments"].setdefault(
                    str(data["authorization_id"]), {"status": "PROCESSING", "reconciled": False}
                )
                payment.setdefault("amount", str(data["amount"]))
                if RANK[data["new_status"]] > RANK[payment["status"]]:
                    payment["status"] = data["new_status"]
            elif kind == "financial_reconciliation":
                payment = self.state["payments"].setdefault(
                    str(data["authorization_id"]), {"status": "PROCESSING", "reconciled": False}
                )
                payment["reconciled"] = True
            self.state["total"] = str(
                sum((Decimal(p.get("amount", "0")) for p in self.state["payments"].values()), Decimal("0"))
            )
            self.state["applied"].append(event["event_id"])
            self._save()
            return True

    def _save(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(self.state, out, indent=2)
        os.replace(tmp, self.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PISMO_CONSUMER_PORT", "8090")))
    parser.add_argument("--ledger", default=os.environ.get("PISMO_CONSUMER_LEDGER", "ledger.json"))
    parser.add_argument("--secret", default=os.environ.get("PISMO_CONSUMER_SECRET"))
    args = parser.parse_args()
    ledger = Ledger(args.ledger)
    ledger._save()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not signature_ok(args.secret, self.headers.get("x-sandbox-signature", ""), body):
                self.send_response(401)
            else:
                ledger.apply(json.loads(body))
                self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:  # readiness
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
