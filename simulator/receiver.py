"""A local event receiver for tests (the ``pismo_events`` fixture): an HTTP server on a loopback
port that a sandbox subscription pushes to (the ``pismo`` format, docs/events.md), keeping every
event it was sent and checking each push's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pismo_sandbox.client import AdminClient


class EventReceiver:
    """Events pushed by one subscription: ``received`` (envelopes, in arrival order; a
    redelivery or a duplicate appears again, as a consumer would see it)."""

    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.received: list[dict] = []
        self.subscription: dict | None = None
        self._secret: str | None = None
        self._admin: AdminClient | None = None
        self._arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not running: start() it first")
        return f"http://{self.host}:{self._server.server_address[1]}/events"

    def start(self) -> "EventReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                accepted = receiver._accept(self.headers.get("x-sandbox-signature") or "", body)
                self.send_response(200 if accepted else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        # polled every 50 ms, so stopping it (at the end of each test) does not wait half a second
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="pismo-events", daemon=True
        ).start()
        return self

    def subscribe(self, admin: AdminClient, filter: dict | None = None) -> dict:
        """Subscribe this receiver through ``admin`` (an AdminClient)."""
        made = admin.subscribe(self.url, "pismo", filter=filter)
        self._admin, self._secret = admin, made.pop("secret")
        self.subscription = made
        return made

    def _accept(self, signature: str, body: bytes) -> bool:
        """Keep a push signed with this subscription's secret; refuse anything else."""
        parts = dict(part.split("=", 1) for part in signature.split(",") if "=" in part)
        if self._secret is None or "t" not in parts:
            return False
        expected = hmac.new(self._secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            return False
        try:
            event = json.loads(body)
        except ValueError:
            return False
        with self._arrived:
            self.received.append(event)
            self._arrived.notify_all()
        return True

    def events(
        self, event_type: str | None = None, *, tenant_id: str | None = None, data: dict | None = None
    ) -> list[dict]:
        """The received events of this type (with or without its ``-<version>``), of this tenant
        (the envelope's ``org_id``), whose ``data`` holds these values."""
        return [event for event in list(self.received) if _matches(event, event_type, tenant_id, data)]

    def wait_for(
        self,
        event_type: str | None = None,
        *,
        tenant_id: str | None = None,
        data: dict | None = None,
        count: int = 1,
        timeout: float = 30.0,
    ) -> dict:
        """The first matching event, once ``count`` of them arrived; AssertionError naming what
        did arrive if they do not within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(found := self.events(event_type, tenant_id=tenant_id, data=data)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(f"{e.get('event_type')} ({e.get('org_id')})" for e in self.received) or "nothing"
                    raise AssertionError(
                        f"no {count} x {event_type or 'event'} (tenant {tenant_id}, data {data})"
                        f" in {timeout:g} s; received: {seen}"
                    )
                self._arrived.wait(left)
        return found[0]

    def close(self) -> None:
        """Unsubscribe (already gone after a reset: nothing to undo) and stop the server."""
        from pismo_sandbox.client import AdminError

        if self._admin is not None and self.subscription is not None:
            try:
                self._admin.unsubscribe(self.subscription["subscription_id"])
            except AdminError as error:
                if error.status != 404:
                    raise
            self.subscription = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _matches(event: dict, event_type: str | None, tenant_id: str | None, data: dict | None) -> bool:
    kind = event.get("event_type") or ""
    if event_type is not None and kind != event_type and kind.rsplit("-", 1)[0] != event_type:
        return False
    if tenant_id is not None and event.get("org_id") != tenant_id:
        return False
    return all((event.get("data") or {}).get(k) == v for k, v in (data or {}).items())
