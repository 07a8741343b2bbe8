"""The bank-slip payment lifecycle: the status machine (as data), the clearing calendar, and the
clock-driven progression that moves payments and emits one status-change event per transition.

    PROCESSING --(provider's processing delay)--> PAID --(clearing: next business day)--> SETTLED
        |                                           '--(clearing)--> CANCELLED   (amount ,93)
        |--(processing delay)--> ERROR    (amount ,91)
        '--(provider's timeout)--> TIMEOUT  (amount ,92)

Each transition happens at its scheduled sandbox instant (not when progression happens to run),
so the history and event timestamps are the same whether the clock was advanced through the
admin API (``on_clock_change``) or the move is noticed lazily (``progress``): by a read (receipts,
payment and event listings, which never show a due transition undone), or by each server
worker's background catch-up twice a second. Pay and validate do not wait for the others' moves:
they apply only their own slip's (``progress_slip``), which decides whether it counts as paid.
Progression runs in BEGIN IMMEDIATE transactions and moves a row with a conditional UPDATE
(``WHERE status = old``), so two workers progressing at once never emit an event twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from pismo_sandbox.clock import Clock, isoformat, parse_instant
from pismo_sandbox.domains.bankslips.providers import PROVIDERS, Provider
from pismo_sandbox.events import EventLog
from pismo_sandbox.store import Store

if TYPE_CHECKING:
    import sqlite_utils

    from pismo_sandbox.domains.bankslips.repository import BankSlipRepository

PROCESSING, PAID, SETTLED = "PROCESSING", "PAID", "SETTLED"
ERROR, TIMEOUT, CANCELLED = "ERROR", "TIMEOUT", "CANCELLED"
STATUSES = (PROCESSING, PAID, SETTLED, ERROR, TIMEOUT, CANCELLED)

# The only moves a payment can make. Anything else is refused (IllegalTransition).
TRANSITIONS: dict[str, frozenset[str]] = {
    PROCESSING: frozenset({PAID, ERROR, TIMEOUT}),
    PAID: frozenset({SETTLED, CANCELLED}),
}
TERMINAL = frozenset(s for s in STATUSES if s not in TRANSITIONS)
# A payment is created PROCESSING with a planned outcome (its terminal status); this is the
# walk to it. Statuses in which a slip counts as paid (it cannot be paid again).
PATHS: dict[str, tuple[str, ...]] = {
    SETTLED: (PAID, SETTLED),
    CANCELLED: (PAID, CANCELLED),
    ERROR: (ERROR,),
    TIMEOUT: (TIMEOUT,),
}
ACTIVE = frozenset({PROCESSING, PAID, SETTLED})

# Brazil has had no daylight saving time since 2019: business dates are UTC-03:00 dates.
BRT = timezone(timedelta(hours=-3), "BRT")

STATUS_DOMAIN, STATUS_EVENT = "integrated-payments", "bankslip_status_change"
RECONCILIATION_EVENT = "financial_reconciliation"
BATCH = 200


class IllegalTransition(Exception):
    """A move the status machine does not allow (a simulator bug if it is ever raised)."""


def check_transition(old: str, new: str | None) -> None:
    if new not in TRANSITIONS.get(old, frozenset()):
        raise IllegalTransition(f"{old} -> {new} is not a bank-slip transition")


def next_status(status: str, outcome: str) -> str | None:
    """The status after ``status`` on the way to ``outcome`` (None when there is none)."""
    path = PATHS[outcome]
    if status == PROCESSING:
        return path[0]
    if status in path and path.index(status) + 1 < len(path):
        return path[path.index(status) + 1]
    return None


# -- the clearing calendar ---------------------------------------------------------------------


def easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Meeus/Jones/Butcher algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's published names)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def national_holidays(year: int) -> frozenset[date]:
    """Days Brazilian banks do not clear: national holidays plus Carnival Monday and Tuesday
    (FEBRABAN's banking calendar). Black Consciousness Day (Nov 20) is national since 2024."""
    fixed = [(1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25)]
    if year >= 2024:
        fixed.append((11, 20))
    sunday = easter(year)
    movable = [
        sunday - timedelta(days=48),
        sunday - timedelta(days=47),  # Carnival
        sunday - timedelta(days=2),  # Good Friday
        sunday + timedelta(days=60),
    ]  # Corpus Christi
    return frozenset([date(year, m, d) for m, d in fixed] + movable)


@dataclass(frozen=True)
class Calendar:
    clearing_days: int = 1
    holidays: bool = True

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and not (self.holidays and day in national_holidays(day.year))

    def add_business_days(self, day: date, count: int) -> date:
        while count > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                count -= 1
        return day

    def clearing_at(self, paid_at: datetime) -> datetime:
        """Clearing: the start (00:00 Brasilia) of the ``clearing_days``-th business day after
        the day the slip was paid."""
        paid_on = paid_at.astimezone(BRT).date()
        return datetime.combine(self.add_business_days(paid_on, self.clearing_days), time(0), BRT)


# -- schedule ------------------------------------------------------------------------------------


def due_at(status: str, outcome: str, entered_at: datetime, provider: Provider, calendar: Calendar) -> datetime | None:
    """When a payment that entered ``status`` at ``entered_at`` makes its next move."""
    following = next_status(status, outcome)
    if following is None:
        return None
    if status == PROCESSING:
        seconds = provider.timeout_seconds if following == TIMEOUT else provider.processing_seconds
        return entered_at + timedelta(seconds=seconds)
    return calendar.clearing_at(entered_at)


# -- event payloads ----------------------------------------------------------------------------


def _number(text: str | None) -> float | None:
    return None if text is None else float(Decimal(text))


def due_datetime(due_date: str | None) -> str | None:
    return f"{due_date}T00:00:00.000Z" if due_date else None


def event_status(status: str) -> str:
    """The status as the status-change event documents it: its enum has no TIMEOUT, so a payment
    that timed out is announced as ERROR, the failure it is (ERRATA S-17); the payment itself
    (receipts, admin) keeps TIMEOUT."""
    return ERROR if status == TIMEOUT else status


def status_event_data(row: dict, old: str, new: str, at: datetime) -> dict:
    """Financial bank slip status changed (integrated-payments, bankslip_status_change, v1)."""
    return {
        "account_id": row["account_id"],
        "authorization_id": row["authorization_id"],
        "provider_id": row["provider_id"],
        "old_status": event_status(old),
        "new_status": event_status(new),
        "amount": _number(row["amount"]),
        "due_datetime": due_datetime(row["due_date"]),
        "digitable_line": row["digitable_line"],
        "bar_code": row["bar_code"],
        "payment_datetime": row["payment_at"],
        "update_datetime": isoformat(at),
        "settlement_partner": PROVIDERS[row["provider"]].settlement_partner,
    }


def reconciliation_event_data(row: dict) -> dict:
    """Integrated payments financial reconciliation (financial_reconciliation, v1)."""
    return {
        "provider": row["provider"],
        "provider_authorization_id": row["external_authorization"],
        "provider_id": row["provider_id"],
        "authorization_id": row["authorization_id"],
        "authorization_datetime": row["payment_at"],
        "result": True,
        "result_description": "OK",
        "amount": _number(row["amount"]),
    }


# -- progression ---------------------------------------------------------------------------------


@dataclass
class Lifecycle:
    """Moves payments along their path as the sandbox clock passes their scheduled instants."""

    store: Store
    repo: "BankSlipRepository"  # imported for type checking only, to keep this module SQL-free
    events: EventLog
    clock: Clock
    calendar: Calendar = field(default_factory=Calendar)
    provider_for: Callable[[str], Provider] = PROVIDERS.__getitem__

    def first_due(self, status: str, outcome: str, entered_at: datetime, provider: str) -> str | None:
        moment = due_at(status, outcome, entered_at, self.provider_for(provider), self.calendar)
        return isoformat(moment) if moment else None

    def on_clock_change(self, now: datetime) -> None:
        """Clock listener (VirtualClock.subscribe): move everything now due."""
        self.progress(now)

    def progress(self, now: datetime | None = None) -> int:
        """Apply every transition due at ``now``; return how many happened (idempotent)."""
        now = now or self.clock.now()
        cutoff = isoformat(now)
        if not self.repo.any_due(cutoff):  # cheap unlocked look: usually nothing to do
            return 0
        moved = 0
        while True:
            with self.store.transaction() as db:
                rows = self.repo.due(db, cutoff, BATCH)  # re-read under the write lock
                for row in rows:
                    moved += self._advance(db, row, now)
            if len(rows) < BATCH:
                return moved

    def progress_slip(self, tenant_id: str, bar_code: str, now: datetime) -> int:
        """Apply the transitions due at ``now`` of one slip's payments, and only those: what paying
        or validating that slip depends on (a payment gone to ERROR, TIMEOUT or CANCELLED no longer
        counts as paid). Joins the caller's transaction when there is one."""
        moved = 0
        with self.store.transaction() as db:
            for row in self.repo.due_for_slip(db, tenant_id, bar_code, isoformat(now)):
                moved += self._advance(db, row, now)
        return moved

    def _advance(self, db: sqlite_utils.Database, row: dict, now: datetime) -> int:
        moved = 0
        status, at = row["status"], parse_instant(row["next_at"])
        while at <= now:
            new = next_status(status, row["outcome"])
            check_transition(status, new)
            assert new is not None  # check_transition refuses None
            following = due_at(new, row["outcome"], at, self.provider_for(row["provider"]), self.calendar)
            if not self.repo.transition(
                db, row["authorization_id"], status, new, isoformat(at), isoformat(following) if following else None
            ):
                return moved  # another worker moved it first; its events are already written
            self.repo.add_history(db, row["authorization_id"], status, new, isoformat(at))
            self.events.publish(
                db,
                org_id=row["tenant_id"],
                domain=STATUS_DOMAIN,
                event=STATUS_EVENT,
                data=status_event_data(row, status, new, at),
                cid=row["cid"],
                now=at,
            )
            if new == SETTLED and self.reconciles(row):
                self.events.publish(
                    db,
                    org_id=row["tenant_id"],
                    domain=STATUS_DOMAIN,
                    event=RECONCILIATION_EVENT,
                    data=reconciliation_event_data(row),
                    cid=row["cid"],
                    now=at,
                )
            moved += 1
            if following is None:
                break
            status, at = new, following
        return moved

    @staticmethod
    def reconciles(row: dict) -> bool:
        """No reconciliation "if x-skip-reconciliation is true or the provider is JD Consultores"."""
        return not row["skip_reconciliation"] and PROVIDERS[row["provider"]].reconciles
