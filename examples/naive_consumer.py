#!/usr/bin/env python3
"""A naive consumer of Pismo events (pismo format): it assumes every event arrives exactly once
and in order. It applies every push it receives, so a duplicate delivery counts a payment
twice, and the last status received wins, so a late PAID undoes a SETTLED.

Same command line and ledger format as good_consumer.py (which see). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Ledger:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"applied": [], "payments": {}, "total": "0"}

    def apply(self, event: dict) -> None:
        with self.lock:
            data = event["data"]
            kind = event["event_type"].rsplit("-", 1)[0]
            if kind == "authorization-event":
                payment = self.state["payments"].setdefault(
                    str(data["authorization"]["id"]), {"status": "PROCESSING", "reconciled": False, "amount": "0"}
                )
                payment["amount"] = str(Decimal(payment["amount"]) + Decimal(str(data["amount"])))
            elif kind == "bankslip_status_change":
                payment = self.state["payments"].setdefault(
                    str(data["authorization_id"]), {"status": "PROCESSING", "reconciled": False, "amount": "0"}
                )
                payment["status"] = data["new_status"]
            elif kind == "financial_reconciliation":
                self.state["payments"].setdefault(
                    str(data["authorization_id"]), {"status": "PROCESSING", "amount": "0"}
                )["reconciled"] = True
            self.state["total"] = str(sum(Decimal(p["amount"]) for p in self.state["payments"].values()))
            self.state["applied"].append(event["event_id"])
            with open(self.path, "w", encoding="utf-8") as out:
                json.dump(self.state, out, indent=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PISMO_CONSUMER_PORT", "8090")))
    parser.add_argument("--ledger", default=os.environ.get("PISMO_CONSUMER_LEDGER", "ledger.json"))
    parser.add_argument("--secret", default=None)  # accepted, never checked
    args = parser.parse_args()
    ledger = Ledger(args.ledger)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            ledger.apply(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
            self.send_response(200)
            self.end_headers()

        def do_GET(self) -> None:
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
