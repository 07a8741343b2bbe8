#!/usr/bin/env python3
"""A receiver for the sandbox's event pushes, for trying subscriptions out: it prints one line
per push (format, event type, event id), answers 204, confirms SNS subscriptions by visiting
their SubscribeURL, and checks the pismo format's signature when given the secret.

Usage: event_receiver.py [--port 8090] [--secret SECRET]      Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
import urllib.request
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def describe(headers: Message, body: bytes, secret: str | None) -> str:
    kind = headers.get("x-amz-sns-message-type")
    document = json.loads(body)
    if kind == "SubscriptionConfirmation":
        with urllib.request.urlopen(document["SubscribeURL"], timeout=10):  # confirm, as SNS asks
            pass
        return "sns SubscriptionConfirmation (confirmed)"
    if kind:
        event, label = json.loads(document["Message"]), f"sns {kind}"
    elif "message" in document and "subscription" in document:
        event, label = json.loads(base64.b64decode(document["message"]["data"])), "pubsub"
    else:
        event, label = document, "pismo"
        if secret:
            parts = dict(p.split("=", 1) for p in headers.get("x-sandbox-signature", "").split(",") if "=" in p)
            expected = hmac.new(secret.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
            label += " (signature ok)" if hmac.compare_digest(expected, parts.get("v1", "")) else " (BAD SIGNATURE)"
    return f"{label} {event['event_type']} {event['event_id']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secret", default=None)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            print(describe(self.headers, body, args.secret), flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    print(f"listening on http://127.0.0.1:{args.port}/", file=sys.stderr, flush=True)
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
