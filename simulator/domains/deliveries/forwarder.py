"""Forwarding, as the Stripe CLI's `listen` does: follow a sandbox's event log over its admin
API (GET /_sandbox/events with a cursor) and post each new event to a local URL, framed like a
subscription's pushes. For a sandbox that cannot reach the receiver (a shared one, and a
developer's laptop). In the sns format a small local endpoint stands in for SNS: it serves the
signing certificate and the SubscribeURL, and notifications flow once the receiver confirmed."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import requests

from pismo_sandbox.client import AdminClient, AdminError
from pismo_sandbox.domains.deliveries import formats
from pismo_sandbox.domains.deliveries.outbox import filter_matches

if TYPE_CHECKING:
    from pismo_sandbox.domains.deliveries.signing import SnsSigner

PAGE = 1000


@dataclass
class Forwarded:
    event: dict
    status: int | None
    error: str | None
    latency_ms: float


class LocalSns:
    """The SNS endpoints a receiver calls, on a loopback port: the certificate and the
    SubscribeURL. Signs with a key made for this run."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from pismo_sandbox.domains.deliveries.signing import SnsSigner, self_signed_certificate

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signer = SnsSigner(key, self_signed_certificate(key))
        self.token = secrets.token_hex(32)
        self.confirmed = threading.Event()
        local = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path.endswith(".pem"):
                    body = local.signer.certificate_pem.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                elif query.get("Action") == "ConfirmSubscription" and query.get("Token") == local.token:
                    local.confirmed.set()
                    body = b'{"ConfirmSubscriptionResponse": {}}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                else:
                    body = b""
                    self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def sns_signer(self) -> SnsSigner:
        return self.signer

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Forwarder:
    def __init__(
        self,
        base_url: str,
        forward_to: str,
        fmt: str = "pismo",
        secret: str | None = None,
        admin_token: str | None = None,
        event_filter: dict | None = None,
        echo: Callable[[str], None] = lambda _line: None,
        poll_seconds: float = 0.5,
        timeout_seconds: float = 10.0,
        http: requests.Session | None = None,
        wall: Callable[[], float] = time.time,
    ):
        self.base = base_url.rstrip("/")
        self.forward_to = forward_to
        self.format = fmt
        self.secret = secret or f"whsec_{secrets.token_hex(24)}"
        self.filter = {k: v for k, v in (event_filter or {}).items() if v}
        self.echo = echo
        self.poll_seconds = poll_seconds
        self.timeout = timeout_seconds
        self.http = http or requests.Session()
        self.admin = AdminClient(self.base, admin_token, session=self.http, timeout=timeout_seconds)
        self.wall = wall
        self.id = f"listen-{uuid.uuid4().hex[:12]}"
        self.cursor: int | None = None
        self.sns: LocalSns | None = None

    def events_after(self, seq: int) -> list[dict]:
        return self.admin.events(after=seq, limit=PAGE)

    def latest_seq(self) -> int:
        """Where the log ends now (a run forwards what is written from now on)."""
        seq = 0
        while True:
            page = self.events_after(seq)
            if not page:
                return seq
            seq = page[-1]["seq"]
            if len(page) < PAGE:
                return seq

    def _post(self, push: formats.Push, keys: formats.SnsKeys | None) -> tuple[int | None, str | None, float]:
        framed = formats.frame(self.format, push, keys)
        started = time.perf_counter()
        try:
            response = self.http.post(
                self.forward_to, data=framed.body, headers=framed.headers, timeout=self.timeout, allow_redirects=False
            )
            return response.status_code, None, (time.perf_counter() - started) * 1000
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}", (time.perf_counter() - started) * 1000

    def _push(self, kind: str, envelope: dict | None) -> formats.Push:
        return formats.Push(
            kind=kind,
            envelope=envelope,
            subscription_id=self.id,
            delivery_id=f"dlv-{uuid.uuid4()}",
            attempt=1,
            secret=self.secret,
            public_base=self.sns.base if self.sns else self.base,
            confirm_token=self.sns.token if self.sns else None,
            now=self.wall(),
        )

    def confirm(self, stop: threading.Event, wait_seconds: float = 60.0) -> bool:
        """sns: send the SubscriptionConfirmation and wait until the receiver visits the
        SubscribeURL (resent every few seconds, as SNS would retry)."""
        self.sns = LocalSns()
        deadline = time.monotonic() + wait_seconds
        while not stop.is_set() and time.monotonic() < deadline:
            status, error, _ = self._post(self._push("confirmation", None), self.sns)
            self.echo(f"SubscriptionConfirmation -> {status or error}")
            if self.sns.confirmed.wait(3.0):
                self.echo("subscription confirmed by the receiver")
                return True
        return False

    def forward(self, event: dict) -> Forwarded:
        envelope = {k: v for k, v in event.items() if k != "seq"}
        status, error, latency = self._post(self._push("event", envelope), self.sns)
        return Forwarded(envelope, status, error, latency)

    def run(self, stop: threading.Event | None = None, max_events: int | None = None, from_start: bool = False) -> int:
        """Forward events until ``stop`` is set (or ``max_events`` were forwarded); how many."""
        stop = stop or threading.Event()
        if self.format == "sns" and not self.confirm(stop):
            self.echo("the receiver did not confirm the subscription; nothing forwarded")
            return 0
        self.cursor = 0 if from_start else self.latest_seq()
        forwarded = 0
        while not stop.is_set():
            try:
                page = self.events_after(self.cursor)
            except AdminError as error:
                self.echo(f"cannot read {self.base}/_sandbox/events: {error}; retrying")
                stop.wait(max(self.poll_seconds, 1.0))
                continue
            for event in page:
                self.cursor = event["seq"]
                if not filter_matches(self.filter, event):
                    continue
                result = self.forward(event)
                outcome = result.status if result.status is not None else result.error
                self.echo(
                    f"{event['timestamp']}  {event['event_type']:<28} {event['event_id']}"
                    f"  -> {outcome} ({result.latency_ms:.0f} ms)"
                )
                forwarded += 1
                if max_events is not None and forwarded >= max_events:
                    return forwarded
            if len(page) < PAGE:
                stop.wait(self.poll_seconds)
        return forwarded

    def close(self) -> None:
        if self.sns is not None:
            self.sns.close()
