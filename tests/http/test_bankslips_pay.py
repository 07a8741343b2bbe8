"""Pay bank slip (seed 003): the 202 body, Authorization created, idempotency (replay, conflict,
in flight, scope, lost answers), account and validation rules, and every documented error code
reached by a documented trigger."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

from pismo_sandbox.contracts.bundle import SOURCES, parse_document, read_text
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.domains.bankslips.triggers import PAY as PAY_STAGE, TRIGGERS
from pismo_sandbox.domains.bankslips.service import BankSlipService
from pismo_sandbox.core import EXTENSION
from tests.http._bankslips import PAY, payer, slips  # noqa: F401 (fixtures)

PAY_OP = "post-integrated-payments-api-v1-bankslips-pay"
SEED_MESSAGES = {
    "EIP0002": "API request timeout",
    "EIP0004": "HTTP request error",
    "EIP0007": "Internal error",
    "EIP0011": "Accounts API timeout error",
    "EIP0013": "Accounts - API returned 4xx error",
    "EIP0015": "IntlBankAccounts API timeout error",
    "EIP0017": "IntlBankAccounts - API returned 4xx error",
    "EIP0019": "P2p - API timeout error",
    "EIP0022": "BankingGatewayAPI API timeout error",
    "EIP0023": "Banking gateway API error - API returned 4xx error",
    "EIP0024": "BankingGatewayAPI - API returned 5xx error",
    "EIP0028": "Transacation database error",
    "EIP0041": "Bank slip database error",
    "EIP0051": "Schedule conciliation error",
    "EIP0053": "Send integrity message error",
    "EIP0065": "BankingGatewayAPI returned 409 provider error",
    "EIP0069": "P2P API - Failed to unmarshal error response body",
}


def _ready(slips, tenant, **boleto):
    """A validated slip and the body that pays it."""
    slip = slips.boleto(**boleto)
    validation = slips.validated(tenant, slip)
    return slip, slips.pay_body(tenant, slip, validation)


def test_pay_answers_202_with_the_seed_body_and_a_processing_authorization(slips, payer):
    slip, body = _ready(slips, payer, amount=150.25, due_date="2025-07-02")
    response = slips.pay(payer, body)
    assert response.status_code == 202
    paid = response.json
    assert paid["status"] == "PROCESSING"
    assert isinstance(paid["authorization_id"], int)
    assert paid["account_id"] == payer.account_id and paid["amount"] == 150.25
    assert paid["bar_code"] == slip["bar_code"] and paid["digitable_line"] == slip["digitable_line"]
    assert paid["currency_code"] == "BRL" and paid["customer_name"]
    assert paid["due_datetime"] == "2025-07-02T00:00:00.000Z"
    assert paid["payment_datetime"] == "2025-06-02T13:00:00.000Z"
    assert paid["additional_info"].startswith("NumCtrl = ")
    assert "x-idempotency-replayed" not in response.headers
    [payment] = slips.payments(payer)
    assert payment["authorization_id"] == paid["authorization_id"]
    assert payment["status"] == "PROCESSING" and payment["provider"] == "CELCOIN"
    assert payment["history"] == [{"old_status": None, "new_status": "PROCESSING", "at": paid["payment_datetime"]}]


def test_pay_emits_authorization_created_with_the_slip_in_metadata(slips, payer):
    slip, response = slips.paid(payer, amount=200.0, fine=4.0, discount=1.5)
    [event] = slips.events(payer, "authorization-event")
    assert event["event_type"] == "authorization-event-1" and event["domain"] == "authorization"
    assert event["org_id"] == payer.tenant_id and event["cid"] == response.headers["x-cid"]
    data = event["data"]
    assert data["amount"] == 202.5 and data["account_id"] == payer.account_id
    assert data["authorization"]["id"] == response.json["authorization_id"]
    assert data["authorization"]["descriptor"] == "Pagamento de Contas"
    assert len(data["authorization"]["code"]) == 6
    metadata = data["metadata"]
    assert metadata["digitable_line"] == slip["digitable_line"]
    assert metadata["beneficiary_name"] == response.json["customer_name"]
    assert metadata["beneficiary_document"].isdigit()
    assert (metadata["original_amount"], metadata["fine"], metadata["discount"]) == (200.0, 4.0, 1.5)
    assert "interest" not in metadata
    assert metadata["payment_datetime"] == response.json["payment_datetime"]


def test_a_retry_with_the_same_key_replays_the_original_response(slips, payer):
    _, body = _ready(slips, payer)
    first = slips.pay(payer, body, key="retry-1")
    slips.advance(60)  # the payment moves on; the replay is the original answer all the same
    again = slips.pay(payer, body, key="retry-1")
    assert again.status_code == first.status_code == 202
    assert again.get_data() == first.get_data()
    assert again.headers["x-idempotency-replayed"] == "true"
    assert again.headers["x-cid"] != first.headers["x-cid"]
    assert len(slips.payments(payer)) == 1
    assert len(slips.events(payer, "authorization-event")) == 1


def test_numerically_equal_amounts_are_the_same_request(slips, payer):
    _, body = _ready(slips, payer, amount=100.0)
    assert slips.pay(payer, {**body, "amount": 100}, key="same").status_code == 202
    replay = slips.pay(payer, {**body, "amount": 100.00}, key="same")
    assert replay.status_code == 202 and replay.headers["x-idempotency-replayed"] == "true"


@pytest.mark.parametrize(
    "change",
    [
        lambda body: ({**body, "amount": body["amount"] + 1}, {}),
        lambda body: ({**body, "currency_code": "BRL"}, {}),
        lambda body: (body, {"x-skip-reconciliation": "true"}),
    ],
)
def test_the_same_key_with_a_different_request_is_a_409_conflict(slips, payer, change):
    _, body = _ready(slips, payer)
    assert slips.pay(payer, body, key="k").status_code == 202
    other_body, headers = change(body)
    response = slips.pay(payer, other_body, key="k", headers=headers)
    assert response.status_code == 409
    assert response.json["code"] == "IDEMPOTENCY_CONFLICT"
    assert len(slips.payments(payer)) == 1


def test_keys_are_scoped_per_tenant_and_account(client, sandbox, slips, payer):
    second_account = sandbox.create_account(payer.tenant_id)
    tenant = {"server_key": payer.server_key, "server_secret": payer.server_secret}
    sibling = type(payer)(
        payer.tenant_id, payer.server_key, payer.server_secret, second_account, sandbox.login(tenant, second_account)
    )
    stranger = sandbox.tenant()
    slips.use_provider(stranger, "BTG")
    for who in (payer, sibling, stranger):
        _, body = _ready(slips, who)
        response = slips.pay(who, body, key="shared-key")
        assert response.status_code == 202 and "x-idempotency-replayed" not in response.headers
    assert len(slips.payments(payer)) == 2 and len(slips.payments(stranger)) == 1


def _until_in_flight(app, key: str) -> None:
    """Wait until a pay has claimed `key` and holds it (the slow provider holds it for seconds)."""
    db = app.extensions[EXTENSION].store.db
    deadline = time.monotonic() + 60
    while not list(db.query("SELECT 1 FROM idempotency_keys WHERE idempotency_key = ? AND state = 'in_flight'", [key])):
        assert time.monotonic() < deadline, f"no pay holds {key!r}"
        time.sleep(0.01)


def test_a_request_while_the_first_with_its_key_is_in_flight_is_a_409(app, slips, payer):
    _, body = _ready(slips, payer, trigger="slow-provider")
    results = {}

    def first():
        results["first"] = app.test_client().post(
            PAY, json=body, headers={**payer.headers, "x-idempotency-key": "slow"}
        )

    worker = threading.Thread(target=first)
    worker.start()
    _until_in_flight(app, "slow")
    during = app.test_client().post(PAY, json=body, headers={**payer.headers, "x-idempotency-key": "slow"})
    worker.join()
    assert during.status_code == 409 and during.json["code"] == "IDEMPOTENCY_IN_FLIGHT"
    assert results["first"].status_code == 202
    after = slips.pay(payer, body, key="slow")
    assert after.status_code == 202 and after.get_data() == results["first"].get_data()
    assert len(slips.payments(payer)) == 1


def test_simultaneous_twins_of_a_payment_pay_once_and_all_answer_the_same_202(app, slips, payer, monkeypatch):
    # A new key is claimed inside the payment's own transaction: a twin that arrives while
    # the first is being paid waits for the write lock and replays, never a 409 in flight.
    check = BankSlipService._check_validation

    def slow_check(self, *args):  # the checks before the payment's transaction take a while
        time.sleep(0.2)
        return check(self, *args)

    monkeypatch.setattr(BankSlipService, "_check_validation", slow_check)
    _, body = _ready(slips, payer)
    twins, start, answers = 6, threading.Barrier(6), []

    def twin():
        client = app.test_client()
        start.wait()
        answers.append(client.post(PAY, json=body, headers={**payer.headers, "x-idempotency-key": "twins"}))

    pool = [threading.Thread(target=twin) for _ in range(twins)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert [a.status_code for a in answers] == [202] * twins
    assert len({a.get_data() for a in answers}) == 1
    replayed = [a.headers.get("x-idempotency-replayed") for a in answers]
    assert replayed.count(None) == 1 and replayed.count("true") == twins - 1
    assert len(slips.payments(payer)) == 1
    assert len(slips.events(payer, "authorization-event")) == 1


def test_a_different_request_in_flight_under_the_same_key_is_a_conflict(app, slips, payer):
    _, body = _ready(slips, payer, trigger="slow-provider")
    worker = threading.Thread(
        target=lambda: app.test_client().post(PAY, json=body, headers={**payer.headers, "x-idempotency-key": "busy"})
    )
    worker.start()
    _until_in_flight(app, "busy")
    response = slips.pay(payer, {**body, "amount": 1.0}, key="busy")
    worker.join()
    assert response.status_code == 409 and response.json["code"] == "IDEMPOTENCY_CONFLICT"


def test_retry_after_a_lost_response_replays_and_pays_once(client, slips, payer):
    rule = client.post(
        "/_sandbox/faults",
        json={
            "match": {"operation_id": PAY_OP},
            "action": {"type": "status", "status": 504},
            "phase": "after",
            "schedule": {"times": 1},
        },
    )
    assert rule.status_code == 201
    _, body = _ready(slips, payer)
    lost = slips.pay(payer, body, key="lost")
    assert lost.status_code == 504 and lost.json["code"] == "EIP0002"
    retry = slips.pay(payer, body, key="lost")
    assert retry.status_code == 202 and retry.headers["x-idempotency-replayed"] == "true"
    [payment] = slips.payments(payer)
    assert retry.json["authorization_id"] == payment["authorization_id"]
    assert len(slips.events(payer, "authorization-event")) == 1


def test_a_failed_request_does_not_spend_its_key(slips, payer):
    slip = slips.boleto()
    body = slips.pay_body(payer, slip)
    refused = slips.pay(payer, body, key="fix-and-retry")
    assert refused.status_code == 400 and "not validated" in refused.json["details"]
    validation = slips.validated(payer, slip)
    body = slips.pay_body(payer, slip, validation)
    assert slips.pay(payer, body, key="fix-and-retry").status_code == 202


def test_the_key_store_keeps_a_fingerprint_never_the_request(slips, payer, db_path):
    _, body = _ready(slips, payer)
    assert slips.pay(payer, body, key="private").status_code == 202
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM idempotency_keys WHERE idempotency_key = 'private'").fetchone())
    assert len(row["fingerprint"]) == 64 and int(row["fingerprint"], 16) >= 0
    assert row["state"] == "completed" and row["response_status"] == 202
    assert json.loads(row["response_body"])["status"] == "PROCESSING"
    # The external authorization travels only in the request: it must appear nowhere here.
    assert body["external_authorization"] not in json.dumps(row)
    assert set(row) == {
        "tenant_id",
        "account_scope",
        "idempotency_key",
        "operation_id",
        "fingerprint",
        "state",
        "lease_token",
        "lease_expires_at",
        "response_status",
        "response_body",
        "created_at",
        "completed_at",
    }


def test_provider_keys_never_leave_the_credential_store(client, sandbox, slips, db_path):
    canary = "CANARY-celcoin-key-5e1f"
    tenant = sandbox.tenant()
    assert (
        client.post(
            "/banking-auth/v1/credentials",
            json={"key": canary, "provider": "CELCOIN", "type": "BAAS"},
            headers=tenant.headers,
        ).status_code
        == 201
    )
    _, response = slips.paid(tenant, key="canary")
    slips.advance(7 * 86400)
    seen = [response.get_data(as_text=True), json.dumps(slips.payments(tenant)), json.dumps(slips.events(tenant))]
    slips.relogin(tenant)
    seen.append(slips.receipts(tenant).get_data(as_text=True))
    seen.append(json.dumps(client.get(f"/_sandbox/tenants/{tenant.tenant_id}/bankslip-provider").json))
    db = sqlite3.connect(db_path)
    seen.append(repr(db.execute("SELECT * FROM idempotency_keys").fetchall()))
    seen.append(repr(db.execute("SELECT * FROM bankslip_payments").fetchall()))
    assert all(canary not in text for text in seen)


def test_the_informational_slip_fields_are_accepted(slips, payer):
    _, body = _ready(slips, payer, amount=80.0, due_date="2025-07-02")
    # original_amount and due_datetime are informational: the slip's own values are used.
    body["bankslip"].update(due_datetime="2022-08-15T00:00:00.000Z", original_amount=81)
    paid = slips.pay(payer, body, key="informational")
    assert paid.status_code == 202
    assert paid.json["amount"] == 80.0 and paid.json["due_datetime"] == "2025-07-02T00:00:00.000Z"
    [authorization] = [e["data"] for e in slips.events(payer, "authorization-event")]
    assert authorization["metadata"]["original_amount"] == 80.0
    replay = slips.pay(payer, body, key="informational")
    assert replay.headers["x-idempotency-replayed"] == "true"


@pytest.mark.parametrize("headers", [{}, {"x-idempotency-key": "  "}])
def test_a_missing_or_blank_idempotency_key_is_EIP0009(client, slips, payer, headers):
    _, body = _ready(slips, payer)
    response = client.post(PAY, json=body, headers={**payer.headers, **headers})
    assert response.status_code == 403
    assert response.json == {
        **response.json,
        "code": "EIP0009",
        "message": "Missing account-id header {x-idempotency-key}",
    }
    assert slips.payments(payer) == []


def test_an_overlong_idempotency_key_is_EIP0008(slips, payer):
    _, body = _ready(slips, payer)
    response = slips.pay(payer, body, key="k" * 256)
    assert response.status_code == 400 and response.json["code"] == "EIP0008"


@pytest.mark.parametrize("value", ["maybe", "1", "yes", "on", "TRUE", "True", "0", "no", ""])
def test_x_skip_reconciliation_is_exactly_true_or_false(slips, payer, value):
    _, body = _ready(slips, payer)
    response = slips.pay(payer, body, headers={"x-skip-reconciliation": value})
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert "x-skip-reconciliation" in response.json["details"]
    assert slips.payments(payer) == []


# -- validation and amounts --------------------------------------------------------------------


def test_paying_a_slip_nobody_validated_is_EIP0008(slips, payer):
    slip = slips.boleto()
    response = slips.pay(payer, slips.pay_body(payer, slip))
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert "bank slip not validated by this account" in response.json["details"]


def test_a_validation_by_another_account_does_not_count(sandbox, slips, payer):
    slip = slips.boleto()
    other = sandbox.tenant()
    slips.use_provider(other, "CELCOIN")
    validation = slips.validated(other, slip)
    response = slips.pay(payer, slips.pay_body(payer, slip, validation))
    assert response.status_code == 400 and "not validated" in response.json["details"]


def test_an_expired_validation_must_be_repeated(sandbox, slips, payer):
    _, body = _ready(slips, payer)
    slips.advance(86_400)
    slips.relogin(payer)  # the old token expired with the day
    response = slips.pay(payer, body)
    assert response.status_code == 400 and "expired" in response.json["details"]


def test_the_external_authorization_validate_returned_is_required_and_must_match(slips, payer):
    _, body = _ready(slips, payer)
    missing = slips.pay(payer, {k: v for k, v in body.items() if k != "external_authorization"})
    wrong = slips.pay(
        payer, {**body, "external_authorization": "000000" if body["external_authorization"] != "000000" else "111111"}
    )
    assert missing.status_code == wrong.status_code == 400
    assert missing.json["details"] == "external_authorization: is required (Validate bank slip returned one)"
    assert wrong.json["details"] == "external_authorization: does not match the one Validate bank slip returned"
    assert slips.pay(payer, body).status_code == 202


def test_providers_without_external_authorization_pay_without_one(sandbox, slips):
    tenant = sandbox.tenant()
    slips.use_provider(tenant, "BTG")
    _, body = _ready(slips, tenant)
    assert "external_authorization" not in body
    assert slips.pay(tenant, body).status_code == 202


def test_changing_provider_after_validating_requires_a_new_validation(client, slips, payer):
    _, body = _ready(slips, payer)
    client.put(f"/_sandbox/tenants/{payer.tenant_id}/bankslip-provider", json={"provider": "ITAU"})
    response = slips.pay(payer, body)
    assert response.status_code == 400 and "validate it again" in response.json["details"]


@pytest.mark.parametrize(
    "amount,details",
    [
        (99.99, "amount: must be 100.00, the amount Validate bank slip returned (got 99.99)"),
        (100.001, "amount: must have at most 2 decimal places"),
        (0, "amount: must be greater than 0"),
        (-5, "amount: must be greater than 0"),
    ],
)
def test_the_amount_must_be_the_validated_amount(slips, payer, amount, details):
    _, body = _ready(slips, payer, amount=100.0)
    response = slips.pay(payer, {**body, "amount": amount})
    assert response.status_code == 400 and response.json["details"] == details


def test_scenario_charges_make_the_amount_to_pay(slips, payer):
    _, body = _ready(slips, payer, amount=100.0, interest=2.5)
    assert body["amount"] == 102.5
    assert slips.pay(payer, {**body, "amount": 100.0}).status_code == 400
    assert slips.pay(payer, body).json["amount"] == 102.5


def test_a_slip_without_an_amount_is_paid_with_the_amount_sent(slips, payer):
    slip = slips.boleto(kind="dealership", amount=None)
    validation = slips.validated(payer, slip)
    response = slips.pay(payer, slips.pay_body(payer, slip, validation, amount=37.4))
    assert response.status_code == 202 and response.json["amount"] == 37.4


def test_bar_code_and_digitable_line_may_both_be_sent_if_they_agree(slips, payer):
    slip, body = _ready(slips, payer)
    other = slips.boleto()
    mixed = {**body, "bankslip": {**body["bankslip"], "digitable_line": other["digitable_line"]}}
    assert (
        slips.pay(payer, mixed)
        .json["details"]
        .startswith("bankslip.bar_code and bankslip.digitable_line are different bank slips")
    )
    agreed = {**body, "bankslip": {**body["bankslip"], "digitable_line": slip["digitable_line"]}}
    assert slips.pay(payer, agreed).status_code == 202


def test_the_slip_is_checked_like_validate_does(slips, payer):
    slip, body = _ready(slips, payer)
    wrong_type = slips.pay(payer, {**body, "bankslip": {**body["bankslip"], "type": 2}})
    broken = slips.pay(payer, {**body, "bankslip": {"type": 1, "bar_code": slip["bar_code"][:-1]}})
    assert wrong_type.json["details"].startswith("bankslip.type: is 2")
    assert broken.json["details"] == "bankslip.bar_code: a bar code has 44 digits, got 43"
    no_slip = slips.pay(payer, {k: v for k, v in body.items() if k != "bankslip"})
    assert no_slip.json["details"] == "bankslip: is required"


def test_currency_must_be_brl(slips, payer):
    _, body = _ready(slips, payer)
    response = slips.pay(payer, {**body, "currency_code": "USD"})
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert slips.pay(payer, {**body, "currency_code": "986"}).status_code == 202


def test_a_paid_slip_cannot_be_paid_again_EIP0065(slips, payer):
    slip, _ = slips.paid(payer)
    revalidate = slips.validate(payer, slip)
    assert revalidate.status_code == 409 and revalidate.json["code"] == "EIP0065"
    again = slips.pay(payer, slips.pay_body(payer, slip, {"amount": slip["amount"]}))
    assert again.status_code == 409 and again.json["code"] == "EIP0065"
    assert again.json["message"] == "BankingGatewayAPI returned 409 provider error"
    assert len(slips.payments(payer)) == 1


# -- accounts ----------------------------------------------------------------------------------


def test_an_account_id_the_token_may_not_touch_is_EIP0030_whether_it_exists_or_not(slips, sandbox, payer):
    other_tenant = sandbox.tenant()  # exists, but in another tenant
    _, body = _ready(slips, payer)
    answers = [
        slips.pay(payer, {**body, "account_id": account_id}) for account_id in (999_999_999, other_tenant.account_id)
    ]
    assert [(r.status_code, r.json["code"]) for r in answers] == [(403, "EIP0030")] * 2
    assert answers[0].json["message"] == answers[1].json["message"]
    assert slips.payments(payer) == []


def test_the_tokens_own_account_gone_is_EIP0012(client, slips, payer):
    _, body = _ready(slips, payer)
    assert client.delete(f"/_sandbox/tenants/{payer.tenant_id}/accounts/{payer.account_id}").status_code == 204
    response = slips.pay(payer, body)
    assert response.status_code == 400
    assert response.json["code"] == "EIP0012" and response.json["message"] == "Account not found"
    assert slips.payments(payer) == []


def test_paying_for_another_account_of_the_tenant_is_EIP0030(sandbox, slips, payer):
    sibling = sandbox.create_account(payer.tenant_id)
    _, body = _ready(slips, payer)
    response = slips.pay(payer, {**body, "account_id": sibling})
    assert response.status_code == 403 and response.json["code"] == "EIP0030"
    assert response.json["message"] == "Entity's account ID does not match {x-account-id} header"


def test_an_x_account_id_header_other_than_the_tokens_is_EIP0030(slips, payer):
    _, body = _ready(slips, payer)
    response = slips.pay(payer, body, headers={"x-account-id": "1"})
    assert response.status_code == 403 and response.json["code"] == "EIP0030"


def test_an_x_tenant_header_other_than_the_tokens_is_EIP0005(slips, payer):
    _, body = _ready(slips, payer)
    response = slips.pay(payer, body, headers={"x-tenant": "TN-someone-else"})
    assert response.status_code == 403 and response.json["code"] == "EIP0005"


def test_a_tenant_token_without_an_account_is_EIP0006(client, sandbox, slips, payer):
    _, body = _ready(slips, payer)
    token = sandbox.login({"server_key": payer.server_key, "server_secret": payer.server_secret})
    response = client.post(PAY, json=body, headers={"Authorization": f"Bearer {token}", "x-idempotency-key": "k"})
    assert response.status_code == 403 and response.json["code"] == "EIP0006"


@pytest.mark.parametrize("status", ["BLOCKED", "CANCELLED", "PENDING"])
def test_an_account_that_is_not_normal_cannot_pay_EIP0013(client, slips, payer, status):
    _, body = _ready(slips, payer)
    client.patch(f"/_sandbox/tenants/{payer.tenant_id}/accounts/{payer.account_id}", json={"status": status})
    response = slips.pay(payer, body)
    assert response.status_code == 400 and response.json["code"] == "EIP0013"
    assert status in response.json["details"]


def test_no_provider_is_EIP0023(sandbox, client, slips, payer):
    _, body = _ready(slips, payer)
    tenant = sandbox.tenant()  # no credential, no admin setting
    response = slips.pay(tenant, {**body, "account_id": tenant.account_id})
    assert response.status_code == 400 and response.json["code"] == "EIP0023"


def test_malformed_json_is_EIP0010_and_missing_fields_EIP0008(client, payer):
    headers = {**payer.headers, "x-idempotency-key": "k"}
    malformed = client.post(PAY, data="{", content_type="application/json", headers=headers)
    missing = client.post(PAY, json={"account_id": payer.account_id}, headers=headers)
    assert malformed.json["code"] == "EIP0010"
    assert missing.json["code"] == "EIP0008" and missing.json["details"] == "amount: is required"


# -- triggers ----------------------------------------------------------------------------------

PAY_TRIGGERS = sorted(name for name, t in TRIGGERS.items() if t.stage == PAY_STAGE and t.error)


@pytest.mark.parametrize("name", PAY_TRIGGERS)
def test_pay_stage_triggers_answer_the_documented_error_and_change_nothing(slips, payer, name):
    trigger = TRIGGERS[name]
    _, body = _ready(slips, payer, trigger=name)
    response = slips.pay(payer, body, key=f"trigger-{name}")
    assert response.status_code == trigger.error.status
    assert response.json["code"] == name and response.json["message"] == SEED_MESSAGES[name]
    assert slips.payments(payer) == [] and slips.events(payer, "authorization-event") == []


def test_every_error_code_pay_documents_has_a_documented_trigger():
    document = load_contract().documents["integrated-payments"]
    responses = document["paths"]["/v1/bankslips/pay"]["post"]["responses"]
    documented = {
        code
        for response in responses.values()
        for code in response.get("content", {}).get("application/json", {}).get("examples", {})
    }
    # Reached by ordinary requests, each tested above: headers, body, accounts, idempotency.
    natural = {
        "EIP0005",
        "EIP0006",
        "EIP0008",
        "EIP0009",
        "EIP0010",
        "EIP0012",
        "EIP0030",
        "IDEMPOTENCY_CONFLICT",
        "IDEMPOTENCY_IN_FLIGHT",
    }
    assert documented - natural <= set(PAY_TRIGGERS)
    assert set(PAY_TRIGGERS) <= documented
    for name in PAY_TRIGGERS:
        assert str(TRIGGERS[name].error.status) in responses


def test_the_published_pay_operation_lacks_the_headers_the_overlay_declares():
    source = next(s for s in SOURCES if s.name == "integrated-payments")
    published = parse_document(source.filename, read_text(source.filename))["paths"]["/v1/bankslips/pay"]["post"]
    served = load_contract().documents["integrated-payments"]["paths"]["/v1/bankslips/pay"]["post"]
    assert "x-skip-reconciliation" in published["description"]  # E-12: described...
    assert all(p.get("name") != "x-skip-reconciliation" for p in published["parameters"])  # ...not declared
    assert any(p.get("name") == "x-skip-reconciliation" for p in served["parameters"])
    assert "x-idempotency-replayed" not in published["responses"]["202"]["headers"]  # E-13
    assert "x-idempotency-replayed" in served["responses"]["202"]["headers"]
    assert {"IDEMPOTENCY_CONFLICT", "IDEMPOTENCY_IN_FLIGHT"} <= set(
        served["responses"]["409"]["content"]["application/json"]["examples"]
    )


def test_a_spent_key_pays_nothing_even_when_its_slip_could_be_paid_again(slips, payer):
    # The first payment failed (ERROR), so the slip is payable again and a new validation
    # passes every check: the key still answers for its first request.
    slip, _ = slips.paid(payer, key="spent", amount=50.91)
    slips.advance(10)
    validation = slips.validated(payer, slip)
    body = slips.pay_body(payer, slip, validation)
    again = slips.pay(payer, body, key="spent")
    assert again.status_code == 409 and again.json["code"] == "IDEMPOTENCY_CONFLICT"
    assert [p["status"] for p in slips.payments(payer)] == ["ERROR"]
    assert slips.pay(payer, body, key="fresh").status_code == 202
