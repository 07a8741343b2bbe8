"""Bank-slip payments move on as real time passes in a served sandbox, with no request asking:
each worker's background catch-up writes the due transitions and their events, which the
database file shows before any read of the API."""

from __future__ import annotations

import sqlite3
import time

import requests

VALIDATE = "/integrated-payments/v1/bankslips/validate"
PAY = "/integrated-payments/v1/bankslips/pay"


def _stored(db_path: str, authorization_id: int) -> tuple[str, int]:
    """The payment's status and its count of status-change events, read from the file itself."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        [status] = conn.execute(
            "SELECT status FROM bankslip_payments WHERE authorization_id = ?", [authorization_id]
        ).fetchone()
        [events] = conn.execute(
            "SELECT COUNT(*) FROM events WHERE event_type LIKE 'bankslip_status_change-%'"
            " AND json_extract(data, '$.authorization_id') = ?",
            [authorization_id],
        ).fetchone()
    return status, events


def test_a_payment_becomes_paid_in_the_file_with_no_read_in_between(served_sandbox):
    base, admin = served_sandbox.url, served_sandbox.admin
    session = admin.new_account()
    admin.set_bankslip_provider(session.tenant_id, "CELCOIN")  # 2 s of processing
    slip = admin.generate_boleto("bank", amount=12.5)
    validation = requests.post(
        base + VALIDATE, json={"type": 1, "bar_code": slip["bar_code"]}, headers=session.headers, timeout=10
    )
    assert validation.status_code == 200, validation.text
    body = {
        "account_id": session.account_id,
        "amount": validation.json()["amount"],
        "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
        "external_authorization": validation.json()["external_authorization"],
    }
    paid = requests.post(
        base + PAY, json=body, headers={**session.headers, "x-idempotency-key": "catch-up"}, timeout=10
    )
    assert paid.status_code == 202, paid.text
    authorization_id = paid.json()["authorization_id"]
    assert _stored(served_sandbox.db_path, authorization_id) == ("PROCESSING", 0)

    deadline = time.monotonic() + 15  # 2 s of processing, then at most half a second's look
    while _stored(served_sandbox.db_path, authorization_id) != ("PAID", 1) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _stored(served_sandbox.db_path, authorization_id) == ("PAID", 1)
