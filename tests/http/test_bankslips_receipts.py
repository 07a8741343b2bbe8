"""List bank slip receipts (sandbox-authored spec): order, filters, cursor paging through equal
payment instants, account isolation, and an index-backed query plan."""

from __future__ import annotations

import pytest

from pismo_sandbox.domains.bankslips.repository import BankSlipRepository, ReceiptsFilter
from pismo_sandbox.core import EXTENSION
from tests.http._bankslips import RECEIPTS, payer, slips  # noqa: F401 (fixtures)


def _pay_many(slips, tenant, count: int, step_seconds: float = 60) -> list[int]:
    ids = []
    for n in range(count):
        _, response = slips.paid(tenant, amount=float(n + 1))
        ids.append(response.json["authorization_id"])
        if step_seconds:
            slips.advance(step_seconds)
    slips.relogin(tenant)
    return ids


def _walk(slips, tenant, **query) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        params = dict(query, **({"lastEvaluatedPaymentDatetimeQuery": cursor} if cursor else {}))
        response = slips.receipts(tenant, **params)
        assert response.status_code == 200, response.json
        pages.append([item["authorization_id"] for item in response.json["items"]])
        cursor = response.json.get("last_evaluated_payment_datetime")
        if cursor is None:
            return pages


def test_receipts_read_back_a_payment_with_its_current_status(slips, payer):
    slip, response = slips.paid(payer, amount=42.5)
    body = slips.receipts(payer).json
    assert body["per_page"] == 20 and "last_evaluated_payment_datetime" not in body
    [receipt] = body["items"]
    assert receipt["authorization_id"] == response.json["authorization_id"]
    assert receipt["status"] == "PROCESSING" and receipt["amount"] == 42.5
    assert receipt["bar_code"] == slip["bar_code"]
    assert receipt["payment_datetime"] == response.json["payment_datetime"]
    assert receipt["beneficiary"]["name"] == response.json["customer_name"]
    slips.advance(3)
    assert slips.receipts(payer).json["items"][0]["status"] == "PAID"


def test_newest_first_by_default_and_oldest_first_on_request(slips, payer):
    ids = _pay_many(slips, payer, 3)
    assert [i["authorization_id"] for i in slips.receipts(payer).json["items"]] == ids[::-1]
    assert [i["authorization_id"] for i in slips.receipts(payer, order="asc").json["items"]] == ids


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_cursor_paging_visits_every_receipt_once_even_at_equal_instants(slips, payer, order):
    ids = _pay_many(slips, payer, 7, step_seconds=0)  # frozen clock: all share one instant
    pages = _walk(slips, payer, perPage=3, order=order)
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for page in pages for i in page]
    assert flat == (sorted(ids) if order == "asc" else sorted(ids, reverse=True))


def test_a_bare_datetime_cursor_continues_strictly_after_that_instant(slips, payer):
    ids = _pay_many(slips, payer, 3)
    second = slips.receipts(payer, order="asc").json["items"][1]["payment_datetime"]
    page = slips.receipts(payer, order="asc", lastEvaluatedPaymentDatetimeQuery=second).json
    assert [i["authorization_id"] for i in page["items"]] == ids[2:]


def test_begin_and_end_datetime_bound_the_payment_instant(slips, payer):
    ids = _pay_many(slips, payer, 4)  # at 13:00, 13:01, 13:02, 13:03
    body = slips.receipts(
        payer, beginDatetime="2025-06-02T13:01:00Z", endDatetime="2025-06-02T13:02:00Z", order="asc"
    ).json
    assert [i["authorization_id"] for i in body["items"]] == ids[1:3]


def test_authorization_id_picks_one_receipt(slips, payer):
    ids = _pay_many(slips, payer, 3)
    body = slips.receipts(payer, authorizationId=ids[1]).json
    assert [i["authorization_id"] for i in body["items"]] == [ids[1]]


def test_an_account_sees_only_its_own_receipts(sandbox, slips, payer):
    _pay_many(slips, payer, 2)
    sibling_id = sandbox.create_account(payer.tenant_id)
    sibling = type(payer)(
        payer.tenant_id,
        payer.server_key,
        payer.server_secret,
        sibling_id,
        sandbox.login({"server_key": payer.server_key, "server_secret": payer.server_secret}, sibling_id),
    )
    stranger = sandbox.tenant()
    mine = slips.receipts(payer).json["items"]
    assert len(mine) == 2
    assert slips.receipts(sibling).json["items"] == []
    assert slips.receipts(stranger).json["items"] == []
    assert slips.receipts(stranger, authorizationId=mine[0]["authorization_id"]).json["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"perPage": 0},
        {"perPage": 101},
        {"order": "sideways"},
        {"beginDatetime": "yesterday"},
        {"authorizationId": "x"},
    ],
)
def test_parameters_outside_the_contract_are_EIP0008(slips, payer, query):
    response = slips.receipts(payer, **query)
    assert response.status_code == 400 and response.json["code"] == "EIP0008"


@pytest.mark.parametrize(
    "query,details",
    [
        (
            {"lastEvaluatedPaymentDatetimeQuery": "not-a-cursor"},
            "lastEvaluatedPaymentDatetimeQuery: must be the last_evaluated_payment_datetime of a previous page"
            " (or an RFC 3339 date-time)",
        ),
        (
            {"beginDatetime": "2025-06-03T00:00:00Z", "endDatetime": "2025-06-02T00:00:00Z"},
            "beginDatetime: must not be after endDatetime",
        ),
    ],
)
def test_inconsistent_parameters_are_EIP0008_with_details(slips, payer, query, details):
    response = slips.receipts(payer, **query)
    assert response.status_code == 400 and response.json["code"] == "EIP0008"
    assert response.json["details"] == details


def test_a_tenant_token_without_an_account_is_EIP0006(client, sandbox):
    created = sandbox.create_tenant()
    token = sandbox.login(created)
    response = client.get(RECEIPTS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and response.json["code"] == "EIP0006"


def test_receipt_pages_are_an_index_range_scan(app):
    repo = BankSlipRepository(app.extensions[EXTENSION].store)
    plan = repo.explain_receipts(ReceiptsFilter(tenant_id="TN-x", account_id=1, limit=21))
    assert "USING INDEX bankslip_payments_receipts" in plan
    assert "TEMP B-TREE" not in plan  # no sort: the index order is the page order
