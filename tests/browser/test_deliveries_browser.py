"""Event delivery on the dashboard in a real browser: a local receiver subscribed through the admin
API, a boleto paid through the API, and the open events page showing the push as delivered,
without a reload."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.test_dashboard_browser import MONDAY, Api

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]  # one Chromium per size (conftest)


class Hook:
    """A receiver on a loopback port: answers 200 and keeps every body it was sent."""

    def __init__(self):
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.bodies.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/pismo"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    made = Hook()
    yield made
    made.stop()


READ_DELIVERIES = r"""
return Array.from(document.querySelectorAll('table.deliveries tr[data-delivery]')).map(row => ({
    event: row.dataset.event, status: row.dataset.status,
    attempts: Array.from(row.querySelectorAll('ol.attempts li')).map(li => ({
        outcome: li.dataset.outcome, text: li.innerText.replace(/\s+/g, ' ').trim()}))}));
"""


def test_a_paid_boleto_is_seen_delivered_to_the_subscribed_receiver_on_the_open_events_page(dashboard, hook, phone):
    api = Api(dashboard.base_url)
    api.call("POST", "/_sandbox/clock", 200, json={"now": MONDAY, "freeze": True})
    tenant = api.tenant()
    subscription = api.call("POST", "/_sandbox/subscriptions", 201, json={"url": hook.url})
    dashboard.open("events")
    dashboard.driver.execute_script("window.notReloaded = true;")
    assert dashboard.driver.find_elements("css selector", f'tr[data-subscription="{subscription["subscription_id"]}"]')

    api.pay_a_boleto(tenant)

    def delivered(driver):
        found = driver.execute_script(READ_DELIVERIES)
        return found if found and all(d["status"] == "delivered" for d in found) else False

    shown = dashboard.wait(delivered, message="the delivery never appeared as delivered")
    received = {body["event_id"]: body for body in hook.bodies}
    assert {d["event"] for d in shown} <= set(received)
    assert any(received[d["event"]]["event_type"].startswith("authorization-event") for d in shown)
    for delivery in shown:
        assert [a["outcome"] for a in delivery["attempts"]] == ["acknowledged"]
        assert (
            delivery["attempts"][0]["text"].startswith("#1 ")
            and " acknowledged 200 " in delivery["attempts"][0]["text"] + " "
        )
    assert dashboard.driver.execute_script("return window.notReloaded === true;"), "the page was reloaded"

    # On a phone the deliveries are cards: nothing scrolls sideways.
    phone.get(f"{dashboard.base_url}/_sandbox/ui/events")
    assert phone.find_elements("css selector", "table.deliveries tr[data-delivery]")
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth;")
    assert phone.execute_script(
        "return Array.from(document.querySelectorAll('.live')).every(s => s.scrollWidth <= s.clientWidth);"
    )
