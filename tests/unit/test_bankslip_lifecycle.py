"""The bank-slip status machine and its clock-driven progression.

The property: whatever the sequence of clock moves (forwards, backwards, big, tiny) and however
many workers progress the same database, every payment walks only allowed transitions, each at
its scheduled instant, each recorded and announced exactly once, and its status is exactly where
its schedule puts it at the latest instant the clock has shown.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.bankslips import lifecycle as lc
from pismo_sandbox.domains.bankslips.lifecycle import Calendar, Lifecycle
from pismo_sandbox.domains.bankslips.providers import PROVIDERS
from pismo_sandbox.domains.bankslips.repository import BankSlipRepository
from pismo_sandbox.events import EventFilter, EventLog
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store

START = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
TENANT = "TN-lifecycle"


class MovableClock:
    def __init__(self, moment: datetime):
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class World:
    """One database, N 'workers' (each its own Store, repository and Lifecycle)."""

    def __init__(self, workers: int, calendar: Calendar = Calendar()):
        self.path = tempfile.mkdtemp() + "/lifecycle.db"
        self.clock = MovableClock(START)
        self.calendar = calendar
        self.workers = []
        for _ in range(workers):
            store = Store(self.path)
            store.migrate()
            repo = BankSlipRepository(store)
            self.workers.append(Lifecycle(store, repo, EventLog(store, Ids()), self.clock, calendar))
        first = self.workers[0]
        with first.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO tenants VALUES (?, 'sk', 'h', 'now')", [TENANT])
        self.ids = itertools.count(70_000_001)
        self.plans: dict[int, tuple[str, str, datetime]] = {}
        self.latest = START

    def pay(self, provider: str, outcome: str, offset: int) -> None:
        created = START + timedelta(seconds=offset)
        auth = next(self.ids)
        first = self.workers[0]
        row = {
            "authorization_id": auth,
            "tenant_id": TENANT,
            "account_id": 1,
            "provider": provider,
            "provider_id": f"p-{auth}",
            "authorization_code": "123456",
            "external_authorization": None,
            "type": 1,
            "bar_code": f"{auth:044d}",
            "digitable_line": f"{auth:047d}",
            "amount": "10.00",
            "original_amount": "10.00",
            "fine": None,
            "interest": None,
            "discount": None,
            "due_date": None,
            "beneficiary_name": "B",
            "beneficiary_document": "1",
            "beneficiary_document_type": "CPF",
            "status": lc.PROCESSING,
            "outcome": outcome,
            "next_at": first.first_due(lc.PROCESSING, outcome, created, provider),
            "skip_reconciliation": 0,
            "idempotency_key": None,
            "cid": None,
            "payment_at": isoformat(created),
            "updated_at": isoformat(created),
        }
        with first.store.transaction() as db:
            first.repo.insert_payment(db, row)
        self.plans[auth] = (provider, outcome, created)

    def move(self, seconds: int) -> None:
        self.clock.moment += timedelta(seconds=seconds)
        self.latest = max(self.latest, self.clock.moment)

    def expected(self, auth: int) -> list[tuple[str, datetime]]:
        """The oracle: the walk the schedule allows up to the latest instant the clock showed."""
        provider, outcome, created = self.plans[auth]
        walk, status, at = [(lc.PROCESSING, created)], lc.PROCESSING, created
        while True:
            due = lc.due_at(status, outcome, at, PROVIDERS[provider], self.calendar)
            if due is None or due > self.latest:
                return walk
            status, at = lc.next_status(status, outcome), due
            walk.append((status, at))

    def check(self) -> None:
        repo = self.workers[0].repo
        events = self.workers[0].events.list(EventFilter(org_id=TENANT, limit=100_000))
        by_payment: dict[int, list[tuple[str, str, str]]] = {}
        reconciled = []
        for event in events:
            if event["event_type"] == "bankslip_status_change-1":
                data = event["data"]
                by_payment.setdefault(data["authorization_id"], []).append(
                    (data["old_status"], data["new_status"], event["timestamp"])
                )
            elif event["event_type"] == "financial_reconciliation-1":
                reconciled.append(event["data"]["authorization_id"])
        histories = repo.history(list(self.plans))
        for auth in self.plans:
            history = histories[auth]
            assert history[0]["old_status"] is None and history[0]["new_status"] == lc.PROCESSING
            for before, after in zip(history, history[1:]):
                assert after["old_status"] == before["new_status"]
                lc.check_transition(after["old_status"], after["new_status"])  # raises if illegal
                assert after["at"] >= before["at"]
            assert [(h["new_status"], h["at"]) for h in history] == [(s, isoformat(t)) for s, t in self.expected(auth)]
            assert by_payment.get(auth, []) == [
                (lc.event_status(h["old_status"]), lc.event_status(h["new_status"]), h["at"]) for h in history[1:]
            ]
            assert repo.get_payment(auth)["status"] == history[-1]["new_status"]
        assert len(reconciled) == len(set(reconciled))
        assert set(reconciled) == {
            a
            for a, (p, _, _) in self.plans.items()
            if histories[a][-1]["new_status"] == lc.SETTLED and PROVIDERS[p].reconciles
        }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payments=st.lists(
        st.tuples(st.sampled_from(sorted(PROVIDERS)), st.sampled_from(sorted(lc.PATHS)), st.integers(0, 3 * 86400)),
        min_size=1,
        max_size=5,
    ),
    moves=st.lists(
        st.tuples(st.integers(-2 * 86400, 4 * 86400) | st.integers(-30, 30), st.integers(0, 1)), min_size=1, max_size=10
    ),
    workers=st.integers(1, 2),
)
def test_random_clock_moves_only_ever_make_allowed_transitions(payments, moves, workers):
    world = World(workers)
    for provider, outcome, offset in payments:
        world.pay(provider, outcome, offset)
    for seconds, who in moves:
        world.move(seconds)
        world.workers[who % workers].progress()
        world.check()


def test_two_workers_progressing_at_once_emit_each_transition_once():
    world = World(workers=2)
    for n in range(60):
        world.pay(sorted(PROVIDERS)[n % 4], sorted(lc.PATHS)[n % 4], n * 7)
    world.move(10 * 86400)
    barrier = threading.Barrier(2)

    def run(worker):
        barrier.wait()
        worker.progress()

    threads = [threading.Thread(target=run, args=(w,)) for w in world.workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    world.check()
    assert all(world.workers[0].repo.get_payment(a)["status"] in lc.TERMINAL for a in world.plans)


def test_moves_built_from_rows_another_worker_has_moved_since_are_not_made_again(monkeypatch):
    world = World(workers=2)
    for n in range(6):
        world.pay(sorted(PROVIDERS)[n % 4], lc.SETTLED, n * 7)
    world.move(10 * 86400)
    late, early = world.workers
    read_before = late.repo.due(late.store.db, isoformat(world.clock.moment), lc.BATCH)  # what the late one read
    assert early.progress() == 12  # meanwhile the other moved every payment, PAID then SETTLED
    monkeypatch.setattr(late.repo, "any_due", lambda now: True)  # as it looked before the other moved them
    monkeypatch.setattr(late.repo, "due", lambda db, now, limit: read_before)
    assert late.progress() == 0  # its moves are found made, with what followed them
    world.check()  # each transition once in the history, one event each


def test_progress_is_idempotent():
    world = World(workers=1)
    world.pay("BTG", lc.SETTLED, 0)
    world.move(86400)
    assert world.workers[0].progress() == 2
    assert world.workers[0].progress() == 0
    world.check()


# -- the machine as data ---------------------------------------------------------------------------


@pytest.mark.parametrize("old,new", list(itertools.product(lc.STATUSES, repeat=2)))
def test_only_the_listed_transitions_are_allowed(old, new):
    allowed = new in lc.TRANSITIONS.get(old, frozenset())
    if allowed:
        lc.check_transition(old, new)
    else:
        with pytest.raises(lc.IllegalTransition):
            lc.check_transition(old, new)


@pytest.mark.parametrize("outcome", sorted(lc.PATHS))
def test_every_path_is_a_chain_of_allowed_transitions_ending_terminal(outcome):
    walk = [lc.PROCESSING]
    while (following := lc.next_status(walk[-1], outcome)) is not None:
        lc.check_transition(walk[-1], following)
        walk.append(following)
    assert walk[-1] == outcome and outcome in lc.TERMINAL


# -- the clearing calendar ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "year,sunday",
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)), (2038, date(2038, 4, 25))],
)
def test_easter_dates(year, sunday):
    assert lc.easter(year) == sunday


def test_brazilian_national_holidays_of_2025():
    holidays = lc.national_holidays(2025)
    for day in [
        "2025-01-01",
        "2025-03-03",
        "2025-03-04",
        "2025-04-18",
        "2025-04-21",
        "2025-05-01",
        "2025-06-19",
        "2025-09-07",
        "2025-10-12",
        "2025-11-02",
        "2025-11-15",
        "2025-11-20",
        "2025-12-25",
    ]:
        assert date.fromisoformat(day) in holidays, day
    assert len(holidays) == 13


@pytest.mark.parametrize(
    "paid,settles",
    [
        ("2025-06-02T13:00:00Z", "2025-06-03T03:00:00Z"),  # Monday -> Tuesday 00:00 Brasilia
        ("2025-06-03T02:30:00Z", "2025-06-03T03:00:00Z"),  # 23:30 on Monday in Brasilia
        ("2025-06-06T13:00:00Z", "2025-06-09T03:00:00Z"),  # Friday -> Monday
        ("2025-06-07T13:00:00Z", "2025-06-09T03:00:00Z"),  # Saturday -> Monday
        ("2025-12-24T13:00:00Z", "2025-12-26T03:00:00Z"),  # Christmas
        ("2025-06-18T13:00:00Z", "2025-06-20T03:00:00Z"),  # Corpus Christi (Thursday 19)
    ],
)
def test_clearing_is_the_start_of_the_next_business_day_in_brasilia(paid, settles):
    moment = datetime.fromisoformat(paid.replace("Z", "+00:00"))
    assert isoformat(Calendar().clearing_at(moment)) == settles.replace(":00Z", ":00.000Z")
