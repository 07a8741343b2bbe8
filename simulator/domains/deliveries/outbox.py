"""The outbox and its attempts, the delivery worker's side of event delivery (free of Flask).

The outbox is derived from the event log by a cursor per subscription: the request that writes
an event does nothing more, and a worker turns every event after a subscription's cursor into
deliveries and moves the cursor in one transaction, so an event is turned into deliveries
exactly once (delivery faults are decided, and counted, in that transaction). A delivery is
attempted by the worker holding its lease (taken in a write transaction, so by exactly one
worker); a worker that dies leaves a lease that expires, or that the next start-up releases,
and the delivery is attempted again: at least once. Deliveries run on real time (seconds since
the epoch, ``wall``), not on the sandbox clock: a frozen sandbox clock does not stop retries.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, UTC
from typing import TYPE_CHECKING, overload

import sqlite_utils

from pismo_sandbox.clock import isoformat
from pismo_sandbox.config import Config
from pismo_sandbox.domains.deliveries import formats
from pismo_sandbox.domains.deliveries.parts import DeliveryParts
from pismo_sandbox.domains.deliveries.schemas import DeliveryFaultRule, DeliveryMatch, load_rule
from pismo_sandbox.events import envelope_of
from pismo_sandbox.faults.engine import delay_for, fires

if TYPE_CHECKING:  # imported where a delivery is sent: a server with no subscription never needs it
    import requests

FAN_OUT_BATCH = 500
SECRET_CONTEXT = "deliveries/subscription-secret"
ERROR_TEXT = 300


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a delivery is attempted."""

    max_attempts: int
    backoff_seconds: float
    backoff_factor: float
    backoff_max_seconds: float
    timeout_seconds: float

    @classmethod
    def from_config(cls, config: Config) -> "RetryPolicy":
        return cls(
            config.delivery_max_attempts,
            config.delivery_backoff_seconds,
            config.delivery_backoff_factor,
            config.delivery_backoff_max_seconds,
            config.delivery_timeout_seconds,
        )

    def backoff(self, attempts_made: int) -> float:
        """Seconds to wait after the ``attempts_made``-th failed attempt (exponential, capped)."""
        return min(self.backoff_max_seconds, self.backoff_seconds * self.backoff_factor ** (attempts_made - 1))


@dataclass(frozen=True)
class Outcome:
    outcome: str  # acknowledged, rejected, timeout, error, dropped
    http_status: int | None = None
    error: str | None = None
    latency_ms: float | None = None


@overload
def instant(seconds: float) -> str: ...
@overload
def instant(seconds: None) -> None: ...
def instant(seconds: float | None) -> str | None:
    """Seconds since the epoch as an RFC 3339 instant (None stays None)."""
    return None if seconds is None else isoformat(datetime.fromtimestamp(seconds, UTC))


def event_type_matches(wanted: str, event_type: str) -> bool:
    """ "bankslip_status_change" matches every version, "bankslip_status_change-1" one."""
    return event_type == wanted or (event_type.startswith(wanted + "-") and event_type[len(wanted) + 1 :].isdigit())


def filter_matches(flt: dict, event: dict) -> bool:
    if flt.get("domain") and flt["domain"] != event["domain"]:
        return False
    if flt.get("event_type") and not event_type_matches(flt["event_type"], event["event_type"]):
        return False
    if flt.get("tenant_id") and flt["tenant_id"] != event["org_id"]:
        return False
    return True


def rule_matches(match: DeliveryMatch, subscription_id: str, event: dict) -> bool:
    return filter_matches(
        {"domain": match.domain, "event_type": match.event_type, "tenant_id": match.tenant_id}, event
    ) and (match.subscription_id is None or match.subscription_id == subscription_id)


def pending_delivery(subscription_id: str, kind: str, now: float, **columns: object) -> dict:
    """A delivery row of ``kind`` ("event" or "confirmation"), due ``now`` and not yet tried."""
    return {
        "subscription_id": subscription_id,
        "kind": kind,
        "status": "pending",
        "due_at": now,
        "ordinal": 0,
        "drops_left": 0,
        "created_at": instant(now),
        "updated_at": instant(now),
        **columns,
    }


class Outbox:
    def __init__(self, parts: DeliveryParts):
        self.parts = parts
        self.store, self.repo, self.keys, self.box = parts.store, parts.repo, parts.keys, parts.box
        self.ids, self.config = parts.ids, parts.config

    def wall(self) -> float:
        """Seconds since the epoch, on the clock the service reads too."""
        return self.parts.wall()

    def has_subscriptions(self) -> bool:
        return bool(self.repo.subscriptions())

    def pending_work(self) -> bool:
        """A cheap look (no write lock): events to fan out, or deliveries due."""
        return self.repo.lagging() or self.repo.has_due(self.wall())

    def fan_out(self) -> int:
        """Turn events after each active subscription's cursor into deliveries (faults decided
        here, counted in the same transaction); how many deliveries were made."""
        if not self.repo.lagging():
            return 0
        made = 0
        now = self.wall()
        with self.store.transaction() as db:
            rules = [(r["id"], load_rule(r["rule"])) for r in self.repo.rules(db)]
            for sub in self.repo.subscriptions(db):
                if sub["status"] != "active":
                    continue
                events = self.repo.events_after(db, sub["cursor"], FAN_OUT_BATCH)
                for event in events:
                    if filter_matches(sub["filter"], event):
                        made += self._deliveries_for(db, sub["subscription_id"], event, rules, now)
                if events:
                    self.repo.move_cursor(db, sub["subscription_id"], events[-1]["seq"])
        return made

    def _deliveries_for(
        self,
        db: sqlite_utils.Database,
        subscription_id: str,
        event: dict,
        rules: list[tuple[str, DeliveryFaultRule]],
        now: float,
    ) -> int:
        decision = self._decide(db, rules, subscription_id, event)
        base = pending_delivery(
            subscription_id,
            "event",
            now,
            event_seq=event["seq"],
            event_id=event["event_id"],
            event_type=event["event_type"],
        )
        copies = 1
        if decision is not None:
            rule_id, rule, n = decision
            action = rule.action
            base.update(fault_rule=rule_id, fault_action=action.type)
            if action.type == "duplicate":
                assert action.copies is not None  # the rule schema makes it 1 when not given
                copies += action.copies
            elif action.type == "delay":
                base["due_at"] = now + delay_for(action.as_delay(), rule.schedule.seed, n) / 1000
            elif action.type == "drop":
                base["drops_left"] = 1
            elif action.type == "reorder":
                assert action.hold_ms is not None  # the rule schema gives the default when not given
                base.update(status="held", held_until=now + action.hold_ms / 1000)
        for copy in range(copies):
            self.repo.insert_delivery(db, {**base, "delivery_id": f"dlv-{self.ids.uuid()}", "copy": copy})
        if base["status"] == "held":
            assert decision is not None  # only a firing reorder rule holds
            rule_id, rule, _n = decision
            held = self.repo.held(db, subscription_id, rule_id)
            assert rule.action.window is not None  # the rule schema requires it of a reorder rule
            if len(held) >= rule.action.window:
                self._release(db, held, rule, now)
        return copies

    def _decide(
        self, db: sqlite_utils.Database, rules: list[tuple[str, DeliveryFaultRule]], subscription_id: str, event: dict
    ) -> tuple[str, DeliveryFaultRule, int] | None:
        """First live matching rule, counted; (rule id, rule, n) when it fires."""
        for rule_id, rule in rules:
            if not rule_matches(rule.match, subscription_id, event):
                continue
            row = self.repo.rule(rule_id, db)
            if row is None:
                continue  # deleted since the rules were read
            if rule.schedule.times is not None and row["fired"] >= rule.schedule.times:
                continue  # spent
            n = row["matched"] + 1
            fire = fires(rule, n, row["fired"])
            self.repo.count_rule(db, rule_id, fire)
            return (rule_id, rule, n) if fire else None
        return None

    def _release(self, db: sqlite_utils.Database, held: list[dict], rule: DeliveryFaultRule, now: float) -> None:
        """Release a held window in another order (deterministic per seed and window)."""
        ids = [row["delivery_id"] for row in held]
        order = list(ids)
        random.Random(f"{rule.schedule.seed}:{held[0]['seq']}:reorder").shuffle(order)
        if order == ids and len(ids) > 1:
            order.reverse()
        self.repo.release(db, order, now, instant(now))

    def release_expired_holds(self) -> int:
        now = self.wall()
        if not self.repo.has_due(now):
            return 0
        released = 0
        with self.store.transaction() as db:
            for subscription_id, rule_id in self.repo.expired_holds(db, now):
                row = self.repo.rule(rule_id, db)
                rule = load_rule(row["rule"]) if row else None
                held = self.repo.held(db, subscription_id, rule_id)
                if rule is None:
                    self.repo.release(db, [h["delivery_id"] for h in held], now, instant(now))
                else:
                    self._release(db, held, rule, now)
                released += len(held)
        return released

    def claim(self, owner: str, limit: int) -> list[str]:
        """Lease up to ``limit`` due deliveries to ``owner``."""
        now = self.wall()
        if not self.repo.has_due(now):
            return []
        with self.store.transaction() as db:
            # Long enough for every attempt of the batch to time out, one after the other.
            lease = 30 + limit * self.repo.longest_timeout(db, self.config.delivery_timeout_seconds)
            return self.repo.claim(db, owner, now, now + lease, limit)

    def release_leases(self) -> int:
        """Forget every lease (at start-up, before any worker runs: their holders are gone)."""
        with self.store.transaction() as db:
            return self.repo.release_leases(db)

    def attempt(self, delivery_id: str, owner: str, http: requests.Session) -> Outcome | None:
        """Make one attempt of a leased delivery and record it; None if it is gone."""
        row = self.repo.for_sending(delivery_id)
        if row is None:
            return None
        policy = RetryPolicy(**row["retry"])
        number = row["attempts"] + 1
        drops_left = row["drops_left"]
        started = self.wall()
        if drops_left > 0:
            drops_left -= 1
            outcome = Outcome("dropped", error="lost by a delivery fault; redelivered later")
        else:
            outcome = self._send(row, number, policy, http)
        if outcome.outcome == "acknowledged":
            status, due = "delivered", row["due_at"]
        elif number >= policy.max_attempts:
            status, due = "failed", row["due_at"]
        else:
            status, due = "pending", self.wall() + policy.backoff(number)
        shaped = row["fault_rule"] is not None and (
            number == 1 or outcome.outcome == "dropped" or row["fault_action"] == "duplicate"
        )
        with self.store.transaction() as db:
            if not self.repo.leased_by(db, delivery_id, owner):
                return outcome  # the lease ran out and another worker took the delivery over
            self.repo.add_attempt(
                db,
                {
                    "delivery_id": delivery_id,
                    "attempt": number,
                    "attempted_at": instant(started),
                    "outcome": outcome.outcome,
                    "http_status": outcome.http_status,
                    "error": outcome.error,
                    "latency_ms": outcome.latency_ms,
                    "fault_rule": row["fault_rule"] if shaped else None,
                    "fault_action": row["fault_action"] if shaped else None,
                },
            )
            self.repo.after_attempt(
                db,
                delivery_id,
                owner,
                status=status,
                attempts=number,
                due_at=due,
                drops_left=drops_left,
                stamp=instant(self.wall()),
            )
        return outcome

    def _send(self, row: dict, number: int, policy: RetryPolicy, http: requests.Session) -> Outcome:
        secret = self.box.open(row["secret"], SECRET_CONTEXT + row["subscription_id"]) if row["secret"] else None
        push = formats.Push(
            kind=row["kind"],
            envelope=envelope_of(row) if row["kind"] == "event" else None,
            subscription_id=row["subscription_id"],
            delivery_id=row["delivery_id"],
            attempt=number,
            secret=secret,
            public_base=row["public_base"],
            confirm_token=row["confirm_token"],
            now=self.wall(),
        )
        framed = formats.frame(row["format"], push, self.keys)
        import requests

        started = time.perf_counter()
        try:
            response = http.post(
                row["url"],
                data=framed.body,
                headers=framed.headers,
                timeout=policy.timeout_seconds,
                allow_redirects=False,
            )
        except requests.Timeout as error:
            return Outcome("timeout", error=str(error)[:ERROR_TEXT], latency_ms=_ms(started))
        except requests.RequestException as error:
            return Outcome("error", error=f"{type(error).__name__}: {error}"[:ERROR_TEXT], latency_ms=_ms(started))
        latency = _ms(started)
        if 200 <= response.status_code < 300:
            return Outcome("acknowledged", response.status_code, latency_ms=latency)
        return Outcome(
            "rejected", response.status_code, f"the receiver answered {response.status_code}", latency_ms=latency
        )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
