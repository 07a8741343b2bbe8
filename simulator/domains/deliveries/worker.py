"""The delivery worker: a background thread in each server worker that fans new events out to
subscriptions, releases held windows, leases due deliveries and attempts them (one HTTP
session per thread). ``run_once`` does one round, so tests can drive it without a thread."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from pismo_sandbox import background
from pismo_sandbox.domains.deliveries.outbox import Outbox

if TYPE_CHECKING:  # imported with the first delivery: a server with no subscription never needs it
    import requests

log = logging.getLogger("pismo_sandbox")
CLAIM_BATCH = 20
# How often the thread looks whether any subscription exists and lets domains write the events
# that fell due with time: with no subscription, that is all it does.
LOOK_SECONDS = 0.5


class DeliveryWorker:
    def __init__(
        self,
        outbox: Outbox,
        poll_seconds: float = 0.05,
        catch_up: Callable[[], object] | None = None,
        batch: int = CLAIM_BATCH,
        http: requests.Session | None = None,
        monotonic: Callable[[], float] | None = None,
    ):
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self.catch_up = catch_up
        self.batch = batch
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._http = http
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._monotonic = monotonic or time.monotonic
        self._last_look = float("-inf")
        self._subscribed = False

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            import requests

            self._http = requests.Session()
            self._http.trust_env = False  # a receiver on loopback is never reached through a proxy
        return self._http

    def run_once(self) -> int:
        """One round: catch up due domain events, fan out, release holds, attempt what is due.
        Returns how much was done (0: idle)."""
        if self._monotonic() - self._last_look >= LOOK_SECONDS:
            self._last_look = self._monotonic()
            self._subscribed = self.outbox.has_subscriptions()
            if self.catch_up is not None:
                # What fell due with real time passing (bank-slip transitions and their events)
                # is written now, subscribed or not: requests leave it to reads and to this.
                self.catch_up()
        if not self._subscribed:  # no subscription, no delivery: a few cheap reads a second
            return 0
        if not self.outbox.pending_work():
            return 0
        done = self.outbox.fan_out() + self.outbox.release_expired_holds()
        for delivery_id in self.outbox.claim(self.owner, self.batch):
            self.outbox.attempt(delivery_id, self.owner, self.http)
            done += 1
        return done

    def run_until_idle(self, rounds: int = 1000) -> int:
        """Rounds until nothing is due now (tests; a delivery waiting for a backoff is not due)."""
        total = 0
        for _ in range(rounds):
            done = self.run_once()
            total += done
            if not done:
                return total
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                done = self.run_once()
            except Exception:  # a bug, or the database briefly unavailable: keep delivering
                log.exception("event delivery round failed; retrying")
                done = 0
            if not done:
                self._stop.wait(self.poll_seconds)

    def start(self) -> threading.Thread:
        self._thread = background.start(self._loop, "event-delivery")
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
