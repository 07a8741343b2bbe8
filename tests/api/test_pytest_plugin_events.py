"""The pismo_events fixture as a user's suite meets it (a separate pytest process, the plugin
loaded through its entry point): events pushed to the test's own receiver, waited for by type,
tenant and data, and the subscription gone after the test; the receiver keeps only pushes
signed with its subscription's secret."""

from __future__ import annotations

import json
import textwrap

import pytest
import requests

from pismo_sandbox.receiver import EventReceiver
from tests.api.test_pytest_plugin import run_pytest, user_file
from tests.deliveries.flow import Flow

pytestmark = pytest.mark.slow

PAY = textwrap.dedent("""
    import uuid, requests

    def pay(sandbox, account, amount):
        admin = sandbox.admin
        admin.set_bankslip_provider(account.tenant_id, "ITAU")
        boleto = admin.generate_boleto(amount=amount)
        slip = {"type": boleto["type"], "bar_code": boleto["bar_code"]}
        api = f"{sandbox.base_url}/integrated-payments/v1/bankslips"
        validated = requests.post(f"{api}/validate", json=slip, headers=account.headers).json()
        paid = requests.post(f"{api}/pay", headers={**account.headers, "x-idempotency-key": str(uuid.uuid4())},
                             json={"account_id": account.account_id, "amount": amount, "bankslip": slip,
                                   "external_authorization": validated["external_authorization"]})
        assert paid.status_code == 202
        return paid.json()
    """)


def test_a_test_receives_the_events_of_its_payment_and_its_subscription_is_removed_after_it(tmp_path, served_sandbox):
    user_file(
        tmp_path,
        PAY
        + textwrap.dedent("""
        def test_the_payment_is_announced(pismo_sandbox, pismo_account, pismo_events):
            paid = pay(pismo_sandbox, pismo_account, 42.00)
            pismo_sandbox.admin.advance_clock(minutes=1)           # PROCESSING -> PAID
            event = pismo_events.wait_for("bankslip_status_change", tenant_id=pismo_account.tenant_id,
                                          data={"new_status": "PAID"})
            assert event["event_type"] == "bankslip_status_change-1"
            assert pismo_events.wait_for("authorization-event", tenant_id=pismo_account.tenant_id)
            assert [s["url"] for s in pismo_sandbox.admin.subscriptions()] == [pismo_events.url]

        def test_afterwards_nothing_is_subscribed(pismo_sandbox):
            assert pismo_sandbox.admin.subscriptions() == []
        """),
    )
    sb = served_sandbox
    sb.admin.freeze_clock("2025-06-02T13:00:00Z")
    done = run_pytest(tmp_path, "-p", "no:randomly", f"--pismo-sandbox-url={sb.base_url}")
    left = sb.admin.subscriptions()
    delivered = sb.admin.deliveries(status="delivered")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert left == [] and delivered == []  # the log went with the subscription


def test_a_push_not_signed_with_the_subscription_secret_is_refused_and_not_kept(served_sandbox):
    sb = served_sandbox
    receiver = EventReceiver().start()
    try:
        receiver.subscribe(sb.admin)
        forged = requests.post(
            receiver.url,
            data=json.dumps({"event_type": "authorization-event-1"}),
            headers={"x-sandbox-signature": "t=1,v1=00"},
            timeout=5,
        )
        unsigned = requests.post(receiver.url, json={"event_type": "authorization-event-1"}, timeout=5)
        flow = Flow(sb.base_url)
        tenant = flow.tenant()
        flow.pay(tenant)
        pushed = receiver.wait_for("authorization-event", tenant_id=tenant["tenant_id"])
    finally:
        receiver.close()

    assert forged.status_code == unsigned.status_code == 401
    assert [e["event_id"] for e in receiver.received] == [pushed["event_id"]]


def test_waiting_for_an_event_that_never_comes_names_what_came():
    receiver = EventReceiver().start()
    try:
        with pytest.raises(AssertionError) as raised:
            receiver.wait_for("bankslip_status_change", data={"new_status": "SETTLED"}, timeout=0.2)
    finally:
        receiver.close()

    assert "bankslip_status_change" in str(raised.value) and "received: nothing" in str(raised.value)
