"""A local HTTP receiver for delivery tests: records every request, answers from a script of
statuses (then 200), and can confirm SNS subscriptions by GETting their SubscribeURL."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)  # answers to the first requests, then 200
    confirm_sns: bool = False
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(
                        Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if (
                    status == 200
                    and receiver.confirm_sns
                    and self.headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation"
                ):
                    threading.Thread(
                        target=requests.get,
                        args=(json.loads(body)["SubscribeURL"],),
                        kwargs={"timeout": 10},
                        daemon=True,
                    ).start()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def posts(self, message_type: str | None = None) -> list[Received]:
        with self.lock:
            found = [r for r in self.received if r.method == "POST"]
        if message_type:
            found = [r for r in found if r.headers.get("x-amz-sns-message-type") == message_type]
        return found

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()
