"""The dashboard in a real browser (headless Chromium) against a served sandbox: a payment seen
through its lifecycle, a fault installed from the form and seen in the journal, every page at
desktop and phone widths, and nothing loaded from anywhere but the sandbox."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.browser.conftest import PAGES

# Both browser modules run in one test process, which starts one Chromium per size.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

MONDAY = "2025-06-02T13:00:00.000Z"  # 10:00 in Brasilia; June 3 is the next business day


class Api:
    """The sandbox's HTTP API, used as a client would (README: "Paying a boleto")."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, expect: int, **kwargs) -> dict:
        response = self.http.request(method, self.base + path, timeout=10, **kwargs)
        assert response.status_code == expect, response.text
        return response.json() if response.content else {}

    def tenant(self) -> dict:
        tenant = self.call("POST", "/_sandbox/tenants", 201, json={})
        account = self.call("POST", f"/_sandbox/tenants/{tenant['tenant_id']}/accounts", 201, json={})
        login = self.call(
            "POST",
            "/passport/v2/s2s/access-token",
            200,
            json={
                "server_key": tenant["server_key"],
                "server_secret": tenant["server_secret"],
                "account_id": account["account_id"],
            },
        )
        return {**tenant, "account_id": account["account_id"], "headers": {"Authorization": f"Bearer {login['token']}"}}

    def pay_a_boleto(self, tenant: dict, amount: float = 150.25) -> dict:
        self.call(
            "PUT", f"/_sandbox/tenants/{tenant['tenant_id']}/bankslip-provider", 200, json={"provider": "CELCOIN"}
        )
        slip = self.call("POST", "/_sandbox/boletos", 201, json={"kind": "bank", "amount": amount})
        validation = self.call(
            "POST",
            "/integrated-payments/v1/bankslips/validate",
            200,
            headers=tenant["headers"],
            json={"type": 1, "bar_code": slip["bar_code"]},
        )
        key = str(uuid.uuid4())
        paid = self.call(
            "POST",
            "/integrated-payments/v1/bankslips/pay",
            202,
            headers={**tenant["headers"], "x-idempotency-key": key},
            json={
                "account_id": tenant["account_id"],
                "amount": amount,
                "external_authorization": validation["external_authorization"],
                "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
            },
        )
        return {**paid, "idempotency_key": key}


# Live sections are re-rendered under the test's feet: rows are read in one script call each.
READ_PAYMENT = r"""
const row = document.querySelector('tr[data-payment="' + arguments[0] + '"]');
return row && {status: row.dataset.status, tenant: row.querySelector('[title]').title,
               timeline: Array.from(row.querySelectorAll('.timeline li'))
                              .map(li => li.innerText.replace(/\s+/g, ' ').trim())};
"""


def _payment(dashboard, authorization_id: int) -> dict | None:
    return dashboard.driver.execute_script(READ_PAYMENT, authorization_id)


def _status_is(dashboard, authorization_id: int, status: str):
    def check(_driver):
        row = _payment(dashboard, authorization_id)
        return row if row is not None and row["status"] == status else False

    return check


def test_a_paid_boleto_appears_processing_and_settles_when_the_page_advances_a_business_day(dashboard):
    api = Api(dashboard.base_url)
    api.call("POST", "/_sandbox/clock", 200, json={"now": MONDAY, "freeze": True})
    tenant = api.tenant()
    dashboard.open("payments")
    dashboard.driver.execute_script("window.notReloaded = true;")

    paid = api.pay_a_boleto(tenant)
    authorization_id = paid["authorization_id"]

    row = dashboard.wait(
        _status_is(dashboard, authorization_id, "PROCESSING"), message="the new payment never appeared as PROCESSING"
    )
    assert dashboard.driver.execute_script("return window.notReloaded === true;"), "the page was reloaded"
    assert row["tenant"] == tenant["tenant_id"]

    dashboard.driver.find_element("css selector", 'button[data-clock="advance"][data-preset="business_day"]').click()
    row = dashboard.wait(
        _status_is(dashboard, authorization_id, "SETTLED"),
        message="the payment never showed SETTLED after a business day",
    )
    assert row["timeline"] == [
        "PROCESSING 2025-06-02 13:00:00.000Z",
        "PAID 2025-06-02 13:00:02.000Z",
        "SETTLED 2025-06-03 03:00:00.000Z",
    ]
    assert dashboard.driver.find_element("id", "clock-now").text == "2025-06-03 13:00:00.000Z"
    assert dashboard.driver.execute_script("return window.notReloaded === true;"), "the page was reloaded"

    # The payment's own page: the requests that made it and the events it emitted.
    dashboard.driver.find_element("css selector", f'tr[data-payment="{authorization_id}"] td a').click()
    dashboard.wait(lambda d: d.find_elements("id", "payment-status"))
    journal = dashboard.driver.find_element("css selector", "table.journal").text
    assert "post-integrated-payments-api-v1-bankslips-pay" in journal
    keys = [
        link.get_attribute("title")
        for link in dashboard.driver.find_elements("css selector", 'table.journal td[data-label="Idempotency key"] a')
    ]
    assert keys == [paid["idempotency_key"]]
    events = dashboard.driver.find_element("css selector", "table.events").text
    assert events.count("bankslip_status_change-1") == 2 and "financial_reconciliation-1" in events


def test_a_fault_installed_from_the_form_fires_and_its_journal_row_stands_out(dashboard):
    api = Api(dashboard.base_url)
    tenant = api.tenant()
    dashboard.open("faults")
    form = dashboard.driver.find_element("id", "fault-form")
    from selenium.webdriver.support.ui import Select

    Select(form.find_element("name", "match.method")).select_by_visible_text("POST")
    form.find_element("name", "match.path").send_keys("/banking-auth/*")
    Select(form.find_element("name", "action.type")).select_by_visible_text("status")
    form.find_element("name", "action.status").send_keys("503")
    form.find_element("name", "schedule.times").send_keys("2")
    form.find_element("name", "description").send_keys("credentials outage")
    form.find_element("css selector", "button[type=submit]").click()

    rule_id = dashboard.wait(
        lambda d: d.execute_script(
            "const row = document.querySelector('table.faults tbody tr'); return row && row.id;"
        ),
        message="the new rule never appeared",
    )
    [stored] = api.call("GET", "/_sandbox/faults", 200)["items"]
    assert (
        stored["id"] == rule_id
        and stored["action"] == {"type": "status", "status": 503}
        and stored["match"] == {"method": "POST", "path": "/banking-auth/*"}
        and stored["schedule"]["times"] == 2
    )

    def send_a_credential():
        response = requests.post(
            dashboard.base_url + "/banking-auth/v1/credentials",
            headers=tenant["headers"],
            json={"key": "k", "provider": "CELCOIN", "type": "BAAS"},
            timeout=10,
        )
        assert response.status_code == 503 and response.headers["x-sandbox-fault"] == rule_id

    # The counters move on the open page...
    send_a_credential()
    dashboard.wait(
        lambda d: (
            d.execute_script(f"return document.querySelector('tr[id=\"{rule_id}\"]').dataset.row;") == f"{rule_id}:1:1"
        ),
        message="the counters never reached matched 1, fired 1",
    )
    # ...and on the open journal the next faulted request arrives, marked.
    dashboard.open("journal")
    dashboard.driver.execute_script("window.notReloaded = true;")
    send_a_credential()
    faulted = dashboard.wait(
        lambda d: (lambda rows: rows if len(rows) == 2 else False)(d.execute_script(READ_FAULTED)),
        message="the second faulted request never appeared in the journal",
    )
    assert dashboard.driver.execute_script("return window.notReloaded === true;"), "the page was reloaded"
    plain = dashboard.driver.execute_script(READ_PLAIN_COLOUR)
    assert plain is not None  # the tenant's set-up requests: answered 2xx, no fault
    for row in faulted:
        assert rule_id in row["text"] and "503" in row["text"] and "/banking-auth/v1/credentials" in row["text"]
        assert row["colour"] != plain


READ_FAULTED = """
return Array.from(document.querySelectorAll('table.journal tr.faulted')).map(
    row => ({text: row.innerText, colour: getComputedStyle(row).backgroundColor}));
"""
READ_PLAIN_COLOUR = """
const plain = document.querySelector('table.journal tbody tr:not(.faulted):not(.refused):not(.failed)');
return plain && getComputedStyle(plain).backgroundColor;
"""


@pytest.mark.parametrize("dashboard", ["ui-admin-token"], indirect=True)
def test_with_an_admin_token_the_login_form_opens_the_dashboard_and_logging_out_closes_it(dashboard):
    admin = {"Authorization": "Bearer ui-admin-token"}
    dashboard.open("faults")
    login = dashboard.driver.find_element("id", "login")
    login.find_element("name", "token").send_keys("not-it")
    login.find_element("css selector", "button[type=submit]").click()
    dashboard.wait(lambda d: d.find_element("id", "notice").text, message="a wrong token said nothing")
    assert "SANDBOX_UNAUTHORIZED" in dashboard.driver.find_element("id", "notice").text
    field = dashboard.driver.find_element("name", "token")
    field.clear()
    field.send_keys("ui-admin-token")
    dashboard.driver.find_element("css selector", "#login button[type=submit]").click()
    dashboard.wait(lambda d: d.find_elements("id", "fault-form"), message="the login did not open the faults page")
    assert dashboard.driver.current_url.endswith("/_sandbox/ui/faults")

    dashboard.driver.find_element("css selector", 'button[data-clock="freeze"]').click()
    dashboard.wait(lambda d: d.find_element("id", "clock-state").text == "frozen")
    assert requests.get(dashboard.base_url + "/_sandbox/clock", headers=admin, timeout=10).json()["frozen"] is True

    dashboard.driver.find_element("id", "logout").click()
    dashboard.wait(lambda d: d.find_elements("id", "login"), message="logging out did not show the login form")
    dashboard.open("payments")
    assert dashboard.driver.find_elements("id", "login") and not dashboard.driver.find_elements("id", "clock")


def test_every_page_loads_only_from_the_sandbox_at_desktop_and_phone_widths(dashboard, phone):
    api = Api(dashboard.base_url)
    tenant = api.tenant()
    api.pay_a_boleto(tenant)
    for driver in (dashboard.driver, phone):
        for page in PAGES:
            driver.get(f"{dashboard.base_url}/_sandbox/ui/{page}")
            loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
            assert loaded and all(url.startswith(dashboard.base_url) for url in loaded), loaded
            # Styled (the stylesheet applied) and no wider than the window (nothing to scroll sideways).
            assert driver.find_element("css selector", "header.top").value_of_css_property("display") == "flex"
            assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;"), page
            if driver is phone:  # a phone: rows are cards, no table scrolls sideways
                assert driver.execute_script(
                    "return Array.from(document.querySelectorAll('.live')).every(s => s.scrollWidth <= s.clientWidth);"
                ), page
