"""What the dashboard's pages show, through HTTP: payments with their timelines and filters, a
payment's journal rows and events, the journal's filters and its faulted rows, events, tenants
with accounts, bank accounts and credentials; live fragments; the dashboard's own requests stay
out of the journal; nothing is loaded from elsewhere."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http._bankslips import MONDAY, payer, slips  # noqa: F401 (fixtures)
from tests.http._dashboard import PAGES, UI, asset_urls, live_html, page, payment_rows, rows


def _ids(html: str) -> list[int]:
    return [int(r.attrs["data-payment"]) for r in payment_rows(html)]


def test_payments_show_each_status_move_at_its_sandbox_time(client, slips, payer):
    _, paid = slips.paid(payer)
    slips.advance(86_400)  # Monday -> Tuesday: paid after 2 s, cleared at 00:00 Brasilia
    [row] = payment_rows(page(client, "payments"))
    assert row.attrs["data-status"] == "SETTLED"
    assert (
        "PROCESSING 2025-06-02 13:00:00.000Z PAID 2025-06-02 13:00:02.000Z SETTLED 2025-06-03 03:00:00.000Z" in row.text
    )
    assert str(paid.json["authorization_id"]) in row.text


def test_payments_filter_by_tenant_account_and_status(client, sandbox, slips, payer):
    other = sandbox.tenant()
    slips.use_provider(other, "CELCOIN")
    _, first = slips.paid(payer)
    slips.advance(5)  # the first is PAID now
    _, second = slips.paid(other)
    first_id, second_id = first.json["authorization_id"], second.json["authorization_id"]
    assert _ids(page(client, "payments")) == [second_id, first_id]  # newest first
    assert _ids(page(client, "payments", tenant_id=payer.tenant_id)) == [first_id]
    assert _ids(page(client, "payments", tenant_id=other.tenant_id, account_id=other.account_id)) == [second_id]
    assert _ids(page(client, "payments", tenant_id=other.tenant_id, account_id=payer.account_id)) == []
    assert _ids(page(client, "payments", status="PROCESSING")) == [second_id]
    assert _ids(page(client, "payments", status="PAID")) == [first_id]
    assert _ids(page(client, "payments", tenant_id="TN-nobody")) == []
    assert _ids(live_html(client, "payments", status="PAID")) == [first_id]


def test_a_payment_page_links_the_requests_under_its_key_and_the_events_it_emitted(client, slips, payer):
    slip = slips.boleto()
    body = slips.pay_body(payer, slip, slips.validated(payer, slip))
    first = slips.pay(payer, body, key="retry-me")
    replay = slips.pay(payer, body, key="retry-me")
    assert first.status_code == replay.status_code == 202
    assert replay.headers["x-idempotency-replayed"] == "true"
    slips.advance(86_400)
    authorization_id = first.json["authorization_id"]
    html = page(client, f"payments/{payer.tenant_id}/{authorization_id}")
    journal = rows(html.split("Events it emitted")[0])[1:]  # the first data-row is the payment's facts
    assert [("replayed" in r.text, r.attrs["data-row"]) for r in journal] == [
        (True, journal[0].attrs["data-row"]),
        (False, journal[1].attrs["data-row"]),
    ]
    assert all("retry-me" in r.titles for r in journal)
    events = rows(html.split("Events it emitted")[1])
    assert [e.attrs["data-type"] for e in events] == [
        "financial_reconciliation-1",
        "bankslip_status_change-1",
        "bankslip_status_change-1",
        "authorization-event-1",
    ]
    missing = client.get(f"{UI}/payments/{payer.tenant_id}/1")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "payment 1 does not exist" in missing.get_data(as_text=True)


def test_the_journal_filters_by_tenant_cid_operation_and_idempotency_key(client, sandbox, slips, payer):
    other = sandbox.tenant()
    slips.paid(payer, key="key-one", headers={"x-cid": "cid-one"})
    slips.validate(other, slips.boleto())

    def seqs(**query):
        return [r.attrs["data-row"] for r in rows(page(client, "journal", **query))]

    everything = seqs()
    assert len(everything) >= 5 and everything == sorted(everything, key=int, reverse=True)
    by_tenant = rows(page(client, "journal", tenant_id=other.tenant_id))
    assert by_tenant and all(other.tenant_id in r.titles for r in by_tenant)
    [by_cid] = rows(page(client, "journal", cid="cid-one"))
    assert "/integrated-payments/v1/bankslips/pay" in by_cid.text and "key-one" in by_cid.titles
    assert seqs(idempotency_key="key-one") == [by_cid.attrs["data-row"]]
    validations = rows(page(client, "journal", operation_id="post-integrated-payments-api-v1-bankslips-validate"))
    assert len(validations) == 2 and all("bankslips/validate" in r.text for r in validations)
    assert rows(live_html(client, "journal", cid="cid-one"))[0].attrs == by_cid.attrs


def test_a_faulted_request_stands_out_in_the_journal(client, tenant):
    rule = client.post(
        "/_sandbox/faults",
        json={"match": {"operation_id": "post-credentials"}, "action": {"type": "status", "status": 503}},
    ).json
    response = client.post(
        "/banking-auth/v1/credentials", headers=tenant.headers, json={"key": "k", "provider": "CELCOIN", "type": "BAAS"}
    )
    assert response.status_code == 503
    journal = rows(page(client, "journal"))
    faulted = [r for r in journal if "faulted" in r.classes]
    assert len(faulted) == 1 and rule["id"] in faulted[0].text and "503" in faulted[0].text
    assert all(rule["id"] not in r.text for r in journal if r is not faulted[0])


def test_events_filter_by_cid_and_type(client, slips, payer):
    slips.paid(payer, headers={"x-cid": "cid-events"})
    slips.advance(86_400)
    by_cid = rows(page(client, "events", cid="cid-events"))
    assert len(by_cid) == 4 and all("cid-events" in r.titles for r in by_cid)
    by_type = rows(page(client, "events", type="financial_reconciliation"))
    assert len(by_type) == 1 and "financial_reconciliation-1" in by_type[0].text
    assert 'id="deliveries"' in page(client, "events")


def test_tenants_show_accounts_bank_accounts_and_credentials(client, sandbox, tenant):
    sandbox.create_account(tenant.tenant_id, status="BLOCKED")
    response = client.post(
        f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/brazil",
        headers=tenant.headers,
        json={
            "scheme": {
                "bank": "00000000",
                "branch": "186",
                "account_number": "1773065291",
                "supplementary_data": {"account_type": "CACC"},
            }
        },
    )
    assert response.status_code == 201
    response = client.post(
        "/banking-auth/v1/credentials",
        headers=tenant.headers,
        json={"key": "the-key", "provider": "CELCOIN", "type": "BAAS"},
    )
    assert response.status_code == 201
    html = page(client, "tenants")
    accounts = [r for r in rows(html) if r.attrs["data-row"].count(":") == 2]
    assert [r.attrs["data-row"].split(":")[2] for r in accounts] == ["NORMAL", "BLOCKED"]
    assert "bank 00000000 · branch 0186 · account 1773065291 (CACC)" in accounts[0].text
    assert "none registered" in accounts[1].text
    [credential] = [r for r in rows(html) if r.attrs["data-row"].count(":") == 3]
    assert "CELCOIN" in credential.text and "BAAS" in credential.text


def test_fault_rules_show_their_counters(client, tenant):
    rule = client.post(
        "/_sandbox/faults",
        json={
            "match": {"operation_id": "post-credentials"},
            "action": {"type": "status", "status": 503},
            "schedule": {"nth": 2},
        },
    ).json
    for _ in range(3):
        client.post(
            "/banking-auth/v1/credentials",
            headers=tenant.headers,
            json={"key": "k", "provider": "CELCOIN", "type": "BAAS"},
        )
    [row] = rows(live_html(client, "faults"))
    assert row.attrs["data-row"] == f"{rule['id']}:3:2"


def test_the_dashboard_own_requests_stay_out_of_the_journal(client, tenant):
    before = client.get("/_sandbox/journal", query_string={"limit": 1000}).json["items"]
    for name in PAGES:
        page(client, name)
        live_html(client, name)
    client.post(f"{UI}/actions/clock", json={"action": "freeze"})
    after = client.get("/_sandbox/journal", query_string={"limit": 1000}).json["items"]
    new = [row for row in after if row["seq"] not in {r["seq"] for r in before}]
    assert [row["path"] for row in new] == ["/_sandbox/journal"]


def test_pages_load_nothing_from_anywhere_else(client, tenant):
    for name in PAGES:
        html = page(client, name)
        urls = asset_urls(html)
        assert urls and all(url.startswith(("/", "#", "data:")) and not url.startswith("//") for url in urls), urls
    for asset in ("dashboard.css", "dashboard.js"):
        response = client.get(f"{UI}/static/{asset}")
        assert response.status_code == 200 and b"http://" not in response.data and b"https://" not in response.data


def test_the_live_endpoint_names_its_sections(client):
    response = client.get(f"{UI}/live/secrets")
    assert response.status_code == 400 and response.json["code"] == "SANDBOX_INVALID_REQUEST"


_filter_values = st.one_of(
    st.text(max_size=30),
    st.integers(-10, 10**25).map(str),
    st.sampled_from(["PAID", "SETTLED", "²", "1e3", " 7 ", "\x00", "9" * 40]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    section=st.sampled_from(["payments", "journal", "events", "faults", "tenants"]),
    query=st.dictionaries(
        st.sampled_from(
            [
                "tenant_id",
                "account_id",
                "status",
                "cid",
                "operation_id",
                "idempotency_key",
                "type",
                "domain",
                "authorization_id",
            ]
        ),
        _filter_values,
        max_size=4,
    ),
)
def test_any_filter_values_give_a_page_never_an_error(client, tenant, section, query):
    assert client.get(f"{UI}/{section}", query_string=query).status_code == 200
    assert client.get(f"{UI}/live/{section}", query_string=query).status_code == 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    authorization_id=st.integers(0, 10**30),
    account_id=st.integers(0, 10**30),
    body=st.one_of(
        st.dictionaries(
            st.sampled_from(["action", "preset", "status"]),
            st.one_of(st.none(), st.integers(), st.text(max_size=10), st.sampled_from(["advance", "minute", "NORMAL"])),
        ),
        st.lists(st.integers(), max_size=2),
        st.text(max_size=5).map(lambda t: t or None),
    ),
)
def test_odd_ids_and_bodies_are_refused_never_a_server_error(client, tenant, authorization_id, account_id, body):
    client.post("/_sandbox/clock", json={"now": MONDAY, "freeze": True})
    assert client.get(f"{UI}/payments/{tenant.tenant_id}/{authorization_id}").status_code == 404
    for path in ("/actions/clock", f"/actions/accounts/{tenant.tenant_id}/{account_id}", "/actions/faults"):
        response = client.post(UI + path, json=body)
        assert response.status_code < 500, (path, body, response.json)
    client.delete("/_sandbox/faults")
