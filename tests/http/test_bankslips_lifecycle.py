"""The bank-slip lifecycle over HTTP: PROCESSING -> PAID -> SETTLED with the sandbox clock,
per provider; clearing on the next business day (weekends, national holidays, configurable);
the failure paths; status-change and reconciliation events; lazy progression on reads."""

from __future__ import annotations

import time

import pytest

from pismo_sandbox.config import Config
from tests.http._bankslips import MONDAY, payer, slips  # noqa: F401 (fixtures)

STATUS_EVENT, RECONCILIATION = "bankslip_status_change", "financial_reconciliation"


def _statuses(slips, tenant) -> list[str]:
    return [p["status"] for p in slips.payments(tenant)]


def _moves(slips, tenant) -> list[tuple[str, str, str]]:
    return [
        (e["data"]["old_status"], e["data"]["new_status"], e["timestamp"]) for e in slips.events(tenant, STATUS_EVENT)
    ]


def test_processing_becomes_paid_after_the_provider_delay_and_settles_next_business_day(slips, payer):
    _, response = slips.paid(payer)  # Celcoin: 2 s of processing
    authorization_id = response.json["authorization_id"]
    slips.advance(1)
    assert _statuses(slips, payer) == ["PROCESSING"]
    slips.advance(1)
    assert _statuses(slips, payer) == ["PAID"]
    slips.advance(14 * 3600 - 2 - 1)  # 02:59:59Z on Tuesday = 23:59:59 in Brasilia, still Monday
    assert _statuses(slips, payer) == ["PAID"]
    slips.advance(1)
    assert _statuses(slips, payer) == ["SETTLED"]
    assert _moves(slips, payer) == [
        ("PROCESSING", "PAID", "2025-06-02T13:00:02.000Z"),
        ("PAID", "SETTLED", "2025-06-03T03:00:00.000Z"),
    ]
    [event] = slips.events(payer, STATUS_EVENT)[:1]
    data = event["data"]
    assert data["authorization_id"] == authorization_id and data["account_id"] == payer.account_id
    assert data["settlement_partner"] == "509 | CELCOIN INST. PAGAMENTO SA / AGENCIA 0001"
    assert data["payment_datetime"] == response.json["payment_datetime"]
    assert data["update_datetime"] == "2025-06-02T13:00:02.000Z"
    assert event["cid"] == response.headers["x-cid"]
    [reconciliation] = slips.events(payer, RECONCILIATION)
    assert reconciliation["timestamp"] == "2025-06-03T03:00:00.000Z"
    assert reconciliation["data"]["authorization_id"] == authorization_id
    assert reconciliation["data"]["result"] is True and reconciliation["data"]["provider"] == "CELCOIN"


def test_one_big_clock_move_records_every_transition_at_its_own_instant(slips, payer):
    slips.paid(payer)
    slips.advance(30 * 86400)
    [payment] = slips.payments(payer)
    assert [(h["new_status"], h["at"]) for h in payment["history"]] == [
        ("PROCESSING", MONDAY),
        ("PAID", "2025-06-02T13:00:02.000Z"),
        ("SETTLED", "2025-06-03T03:00:00.000Z"),
    ]
    assert payment["next_transition_at"] is None
    assert len(slips.events(payer, STATUS_EVENT)) == 2 and len(slips.events(payer, RECONCILIATION)) == 1


def test_a_friday_payment_settles_on_monday(slips, payer):
    slips.set_clock("2025-06-06T13:00:00Z")
    slips.relogin(payer)
    slips.paid(payer)
    slips.advance(2 * 86400)  # Sunday afternoon
    assert _statuses(slips, payer) == ["PAID"]
    slips.advance(14 * 3600)  # Monday 03:00Z = 00:00 in Brasilia
    assert _statuses(slips, payer) == ["SETTLED"]
    assert _moves(slips, payer)[-1][2] == "2025-06-09T03:00:00.000Z"


def test_national_holidays_are_not_business_days(slips, payer):
    # Thursday 2025-04-17; Good Friday, the weekend and Tiradentes (Monday 21) do not clear.
    slips.set_clock("2025-04-17T13:00:00Z")
    slips.relogin(payer)
    slips.paid(payer)
    slips.advance(10 * 86400)
    assert _moves(slips, payer)[-1] == ("PAID", "SETTLED", "2025-04-22T03:00:00.000Z")


@pytest.mark.parametrize("provider,seconds", [("BTG", 5), ("CELCOIN", 2), ("ITAU", 10), ("JDPI", 3)])
def test_each_provider_has_its_own_processing_delay(slips, sandbox, provider, seconds):
    tenant = sandbox.tenant()
    slips.use_provider(tenant, provider)
    slips.paid(tenant)
    slips.advance(seconds - 1)
    assert _statuses(slips, tenant) == ["PROCESSING"]
    slips.advance(1)
    assert _statuses(slips, tenant) == ["PAID"]
    assert slips.payments(tenant)[0]["provider"] == provider


@pytest.mark.parametrize(
    "amount,path,reconciled",
    [
        (100.91, ["PROCESSING", "ERROR"], False),
        (100.92, ["PROCESSING", "TIMEOUT"], False),
        (100.93, ["PROCESSING", "PAID", "CANCELLED"], False),
        (100.94, ["PROCESSING", "PAID", "SETTLED"], True),
    ],
)
def test_amount_cents_choose_how_the_payment_ends(slips, payer, amount, path, reconciled):
    _, response = slips.paid(payer, amount=amount)
    assert response.json["status"] == "PROCESSING"
    slips.advance(30 * 86400)
    [payment] = slips.payments(payer)
    assert [h["new_status"] for h in payment["history"]] == path
    # The event's enum has no TIMEOUT: a timed-out payment is announced as ERROR.
    announced = ["ERROR" if status == "TIMEOUT" else status for status in path]
    assert [(old, new) for old, new, _ in _moves(slips, payer)] == list(zip(announced, announced[1:]))
    assert len(slips.events(payer, RECONCILIATION)) == int(reconciled)


def test_timeout_comes_after_the_providers_timeout_not_its_processing_delay(slips, payer):
    slips.paid(payer, amount=10.92)  # Celcoin: paid after 2 s, times out after 20 s
    slips.advance(19)
    assert _statuses(slips, payer) == ["PROCESSING"]
    slips.advance(1)
    assert _statuses(slips, payer) == ["TIMEOUT"]


def test_a_failed_payment_leaves_the_slip_payable_again(slips, payer):
    slip, _ = slips.paid(payer, amount=50.91)
    slips.advance(10)
    assert _statuses(slips, payer) == ["ERROR"]
    validation = slips.validated(payer, slip)
    again = slips.pay(payer, slips.pay_body(payer, slip, validation))
    assert again.status_code == 202
    assert _statuses(slips, payer) == ["ERROR", "PROCESSING"]


def test_x_skip_reconciliation_true_suppresses_the_reconciliation_event(slips, payer):
    slips.paid(payer, headers={"x-skip-reconciliation": "true"})
    slips.paid(payer, headers={"x-skip-reconciliation": "false"})
    slips.advance(2 * 86400)
    assert _statuses(slips, payer) == ["SETTLED", "SETTLED"]
    payments = slips.payments(payer)
    [reconciliation] = slips.events(payer, RECONCILIATION)
    assert reconciliation["data"]["authorization_id"] == payments[1]["authorization_id"]
    assert payments[0]["skip_reconciliation"] is True


def test_jd_consultores_payments_are_never_reconciled(slips, sandbox):
    tenant = sandbox.tenant()
    slips.use_provider(tenant, "JDPI")
    slips.paid(tenant)
    slips.advance(2 * 86400)
    assert _statuses(slips, tenant) == ["SETTLED"]
    assert slips.events(tenant, RECONCILIATION) == []
    assert slips.events(tenant, STATUS_EVENT)[-1]["data"]["settlement_partner"] == "JD CONSULTORES / SPB"


def test_the_admin_listing_filters_by_status_and_account(slips, payer, sandbox):
    slips.paid(payer, amount=1.91)
    slips.paid(payer, amount=2.0)
    slips.advance(10)
    assert [p["amount"] for p in slips.payments(payer, status="ERROR")] == [1.91]
    assert [p["amount"] for p in slips.payments(payer, status="PAID")] == [2.0]
    assert slips.payments(payer, account_id=payer.account_id + 1000) == []
    assert slips.payments(sandbox.tenant()) == []


def test_listing_an_unknown_tenant_is_404(client):
    assert client.get("/_sandbox/bankslips", query_string={"tenant_id": "TN-nobody"}).status_code == 404


class TestRealTime:
    """With a ticking clock, payments move as real time passes, noticed on the next read."""

    @pytest.fixture
    def config(self, db_path):
        return Config(db_path=db_path, bankslip_processing_seconds=1)

    def test_reads_apply_transitions_that_real_time_made_due(self, client, slips, payer):
        slips.set_clock(MONDAY, freeze=False)
        slips.paid(payer)
        assert _statuses(slips, payer) == ["PROCESSING"]
        time.sleep(1.2)
        receipts = slips.receipts(payer)
        assert receipts.json["items"][0]["status"] == "PAID"

    def test_a_payment_that_failed_as_time_passed_leaves_its_slip_payable_at_once(self, client, slips, payer):
        slips.set_clock(MONDAY, freeze=False)
        slip, _ = slips.paid(payer, amount=50.91)  # goes to ERROR after the 1 s of processing
        time.sleep(1.2)
        # No read in between: validating the slip applies its own payment's due move first.
        validation = slips.validated(payer, slip)
        again = slips.pay(payer, slips.pay_body(payer, slip, validation))
        assert again.status_code == 202, again.json
        assert _statuses(slips, payer) == ["ERROR", "PROCESSING"]

    def test_a_due_move_of_a_paid_slip_is_applied_before_it_is_refused(self, client, slips, payer):
        slips.set_clock(MONDAY, freeze=False)
        slip, _ = slips.paid(payer)
        time.sleep(1.2)
        # The refusal names the status the payment has by now, not the one it had at the last read.
        refused = slips.validate(payer, slip)
        assert refused.status_code == 409 and "(PAID)" in refused.json["details"], refused.json

    def test_reading_the_event_log_applies_due_transitions_first(self, client, slips, payer):
        slips.set_clock(MONDAY, freeze=False)
        slips.paid(payer)
        time.sleep(1.2)
        # The event log is the first read after the transition became due.
        assert [e["data"]["new_status"] for e in slips.events(payer, STATUS_EVENT)] == ["PAID"]


class TestConfiguredClearing:
    @pytest.fixture
    def config(self, db_path):
        return Config(db_path=db_path, bankslip_clearing_days=2, bankslip_holidays=False)

    def test_clearing_days_and_holidays_are_configurable(self, slips, payer):
        slips.set_clock("2025-04-17T13:00:00Z")  # Thursday; Good Friday counts when holidays are off
        slips.relogin(payer)
        slips.paid(payer)
        slips.advance(10 * 86400)
        assert _moves(slips, payer)[-1] == ("PAID", "SETTLED", "2025-04-21T03:00:00.000Z")


def test_every_event_of_every_ending_validates_against_the_bundled_schemas(client, slips, payer):
    from pismo_sandbox import event_schemas

    for amount in (100.91, 100.92, 100.93, 100.94):
        slips.paid(payer, amount=amount)
    slips.advance(30 * 86400)
    events = slips.events(payer)
    assert {e["event_type"] for e in events} == {
        "authorization-event-1",
        "bankslip_status_change-1",
        "financial_reconciliation-1",
    }
    for event in events:
        event.pop("seq")
        assert event_schemas.problems(event) == []
