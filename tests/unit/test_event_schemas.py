"""Every event is checked against the bundled event schemas as it is written: a bad one commits
nothing and is reported as a simulator bug."""

from __future__ import annotations

from datetime import datetime, UTC

import pytest

from pismo_sandbox import event_schemas
from pismo_sandbox.events import EventFilter, EventLog
from pismo_sandbox.ids import Ids
from pismo_sandbox.store import Store

NOW = datetime(2025, 6, 2, 13, 0, tzinfo=UTC)
STATUS_CHANGE = {
    "account_id": 1,
    "authorization_id": 2,
    "provider_id": "p",
    "old_status": "PROCESSING",
    "new_status": "PAID",
    "amount": 10.0,
    "due_datetime": None,
    "payment_datetime": "2025-06-02T13:00:00.000Z",
    "update_datetime": "2025-06-02T13:00:05.000Z",
    "settlement_partner": "x",
}


@pytest.fixture
def log(tmp_path) -> EventLog:
    store = Store(str(tmp_path / "sandbox.db"))
    store.migrate()
    return EventLog(store, Ids(7))


def _publish(log: EventLog, data: dict, event: str = "bankslip_status_change", domain="integrated-payments"):
    with log.store.transaction() as db:
        return log.publish(db, org_id="TN-1", domain=domain, event=event, data=data, cid=None, now=NOW)


def test_a_documented_event_is_written(log):
    envelope = _publish(log, STATUS_CHANGE)
    assert [e["event_id"] for e in log.list(EventFilter())] == [envelope["event_id"]]


@pytest.mark.parametrize(
    "change,why",
    [
        ({"new_status": "TIMEOUT"}, "data/new_status"),
        ({"amount": "10.00"}, "data/amount"),
        ({"update_datetime": "yesterday"}, "data/update_datetime"),
    ],
)
def test_an_event_outside_its_schema_commits_nothing(log, change, why):
    with pytest.raises(event_schemas.EventSchemaViolation, match=why):
        _publish(log, {**STATUS_CHANGE, **change})
    assert log.list(EventFilter()) == []


def test_an_event_type_without_a_schema_is_refused(log):
    with pytest.raises(event_schemas.EventSchemaViolation, match="has no documented schema"):
        _publish(log, {}, event="made_up")
    assert log.list(EventFilter()) == []


def test_every_event_type_the_sandbox_emits_has_a_schema():
    assert event_schemas.documented_event_types() == {
        "authorization-event-1",
        "bankslip_status_change-1",
        "financial_reconciliation-1",
        "intl_bankaccount_register-1",
        "intl_bankaccount_update-1",
    }
