"""The dashboard shows event delivery, through HTTP: subscriptions, each event's deliveries with
every attempt (time, outcome, status or error, latency, the fault rule that shaped it) on the
events page and its live fragment, under the page's filters; delivery fault rules with their
counters on the faults page, deleted from there."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http._dashboard import UI, live_html, page, rows
from tests.deliveries.publishing import FAST, publish


def _deliveries(html: str) -> list:
    return [r for r in rows(html) if "data-delivery" in r.attrs]


def _subscriptions(html: str) -> list:
    return [r for r in rows(html) if "data-subscription" in r.attrs]


def test_the_events_page_shows_subscriptions_and_every_attempt_of_a_retried_delivery(
    client, sandbox, tenant, worker, receiver
):
    hook = receiver(statuses=[503])
    sub = client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": FAST}).json
    event_id = publish(sandbox, tenant)
    worker.run_until_idle()

    html = page(client, "events")

    assert "does not deliver" not in html
    [subscription] = _subscriptions(html)
    assert sub["subscription_id"] in subscription.titles and hook.url in subscription.text
    assert "pismo" in subscription.text and "active" in subscription.text and "every event" in subscription.text
    [delivery] = _deliveries(html)
    [logged] = client.get("/_sandbox/deliveries").json["items"]
    assert delivery.attrs["data-event"] == event_id and delivery.attrs["data-status"] == "delivered"
    assert delivery.attrs["data-row"] == f"{logged['delivery_id']}:delivered:2"
    first, second = logged["attempts"]
    assert re.search(
        rf"#1 {re.escape(first['attempted_at'].replace('T', ' '))} rejected 503 "
        rf"the receiver answered 503 {first['latency_ms']:.1f} ms",
        delivery.text,
    ), delivery.text
    assert re.search(
        rf"#2 {re.escape(second['attempted_at'].replace('T', ' '))} acknowledged 200 "
        rf"{second['latency_ms']:.1f} ms",
        delivery.text,
    ), delivery.text
    assert sub["secret"] not in html


def test_a_delivery_shaped_by_a_fault_names_its_rule_on_the_delivery_and_the_attempt(
    client, sandbox, tenant, worker, receiver
):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": FAST})
    rule = client.post("/_sandbox/delivery-faults", json={"action": {"type": "drop"}}).json
    publish(sandbox, tenant)
    worker.run_until_idle()

    [delivery] = _deliveries(page(client, "events"))

    assert "faulted" in delivery.classes
    assert "#1" in delivery.text and "dropped" in delivery.text and "lost by a delivery fault" in delivery.text
    assert "#2" in delivery.text and "acknowledged 200" in delivery.text
    assert delivery.text.count(rule["id"]) == 2  # the delivery and its dropped attempt


def test_deliveries_follow_the_events_filters_and_the_live_fragment(client, sandbox, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    first, second = sandbox.tenant(), sandbox.tenant()
    first_event, second_event = publish(sandbox, first), publish(sandbox, second)
    worker.run_until_idle()

    everything = _deliveries(live_html(client, "deliveries"))
    only_first = _deliveries(page(client, "events", tenant_id=first.tenant_id))
    live_second = _deliveries(live_html(client, "deliveries", tenant_id=second.tenant_id))

    assert [r.attrs["data-event"] for r in everything] == [second_event, first_event]  # newest event first
    assert [r.attrs["data-event"] for r in only_first] == [first_event]
    assert [r.attrs["data-event"] for r in live_second] == [second_event]
    assert _deliveries(live_html(client, "deliveries", type="no-such-event")) == []


def test_a_pending_delivery_shows_when_it_is_tried_next_and_nothing_before_a_subscription(
    client, sandbox, tenant, worker, receiver
):
    assert "No subscriptions" in page(client, "events")
    hook = receiver(statuses=[500])
    client.post(
        "/_sandbox/subscriptions",
        json={"url": hook.url, "retry": {**FAST, "backoff_seconds": 3600, "backoff_max_seconds": 3600}},
    )
    publish(sandbox, tenant)
    worker.run_until_idle()

    [delivery] = _deliveries(live_html(client, "deliveries"))

    [logged] = client.get("/_sandbox/deliveries").json["items"]
    assert delivery.attrs["data-status"] == "pending" and "rejected 500" in delivery.text
    assert f"next {logged['next_attempt_at'].replace('T', ' ')}" in delivery.text


def test_delivery_fault_rules_show_their_counters_and_are_deleted_from_the_faults_page(
    client, sandbox, tenant, worker, receiver
):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    rule = client.post(
        "/_sandbox/delivery-faults",
        json={
            "match": {"tenant_id": tenant.tenant_id},
            "action": {"type": "duplicate", "copies": 2},
            "description": "twice more",
        },
    ).json
    publish(sandbox, tenant)
    worker.run_until_idle()

    copies = _deliveries(page(client, "events"))
    assert sorted(re.findall(r"\bcopy \S+", " ".join(r.text for r in copies))) == ["copy 1", "copy 2"]
    assert len(copies) == 3 and all(r.attrs["data-status"] == "delivered" for r in copies)

    [row] = [r for r in rows(page(client, "faults")) if r.attrs.get("id") == rule["id"]]
    assert row.attrs["data-row"] == f"{rule['id']}:1:1"
    assert "twice more" in row.text and f"tenant_id={tenant.tenant_id}" in row.text and "copies=2" in row.text
    assert [r.attrs.get("data-row") for r in rows(live_html(client, "delivery_faults"))] == [f"{rule['id']}:1:1"]

    assert client.delete(f"{UI}/actions/delivery-faults/{rule['id']}").status_code == 204
    assert client.get("/_sandbox/delivery-faults").json["items"] == []
    assert "No delivery fault rules" in live_html(client, "delivery_faults")
    gone = client.delete(f"{UI}/actions/delivery-faults/{rule['id']}")
    assert gone.status_code == 404 and gone.json["code"] == "SANDBOX_NOT_FOUND"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(
        st.sampled_from(["tenant_id", "cid", "type", "domain"]),
        st.one_of(st.text(max_size=30), st.sampled_from(["\x00", "9" * 40, "²"])),
        max_size=4,
    )
)
def test_any_filter_values_give_the_deliveries_never_an_error(client, query):
    assert client.get(f"{UI}/events", query_string=query).status_code == 200
    assert client.get(f"{UI}/live/deliveries", query_string=query).status_code == 200
    assert client.get(f"{UI}/live/delivery_faults", query_string=query).status_code == 200
