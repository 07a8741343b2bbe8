"""Event delivery from a served sandbox (gunicorn, two workers, each with its delivery thread):
every format end to end, each attempt made once, prompt delivery after a clock move, and no
event lost to a kill -9. Tests that need no start-up of their own use the test process's shared
served sandbox (two workers), reset; the others a killable one."""

from __future__ import annotations

import base64
import json

import pytest

from pismo_sandbox.domains.deliveries.formats import sns
from tests.deliveries.flow import Flow

pytestmark = pytest.mark.slow

PAY_FLOW = {"authorization-event-1", "bankslip_status_change-1", "financial_reconciliation-1"}


def _event_id(post, fmt: str) -> str:
    body = post.json()
    if fmt == "sns":
        return json.loads(body["Message"])["event_id"]
    if fmt == "pubsub":
        return json.loads(base64.b64decode(body["message"]["data"]))["event_id"]
    return body["event_id"]


def test_each_format_receives_every_event_of_a_pay_flow_once(served_sandbox, receiver):
    server = served_sandbox  # two workers
    flow = Flow(server.url)
    flow.freeze()
    hooks = {fmt: receiver(confirm_sns=True) for fmt in ("pismo", "sns", "pubsub")}
    subs = {fmt: flow.subscribe(hook.url, fmt) for fmt, hook in hooks.items()}
    # the sns receiver confirms on its own (GET SubscribeURL); then notifications flow
    assert hooks["sns"].wait_for(lambda: flow.client.subscription(subs["sns"]["subscription_id"])["status"] == "active")
    tenant = flow.tenant()
    flow.pay(tenant)
    flow.settle()
    events = flow.events(tenant["tenant_id"])
    assert {e["event_type"] for e in events} == PAY_FLOW and len(events) == 4
    for fmt, hook in hooks.items():
        notifications = lambda: hook.posts("Notification") if fmt == "sns" else hook.posts()  # noqa: E731
        assert hook.wait_for(lambda: len(notifications()) >= 4), (fmt, [p.body[:200] for p in hook.posts()])
        assert sorted(_event_id(p, fmt) for p in notifications()) == sorted(e["event_id"] for e in events)

        def log(subscription_id: str = subs[fmt]["subscription_id"]) -> list[dict]:
            return [d for d in flow.deliveries(subscription_id=subscription_id) if d["kind"] == "event"]

        # the receiver answers before the attempt is recorded: wait for the log to catch up
        assert hook.wait_for(lambda: all(d["status"] == "delivered" for d in log()))
        assert all(len(d["attempts"]) == 1 for d in log())  # one attempt each: one worker made it
    certificate = flow.http.get(hooks["sns"].posts("Notification")[0].json()["SigningCertURL"]).text
    from pismo_sandbox.domains.deliveries.signing import verify

    for post in hooks["sns"].posts("Notification"):
        assert verify(certificate, sns.canonical(post.json()), post.json()["Signature"])
    for post in hooks["pismo"].posts():
        from pismo_sandbox.domains.deliveries.formats import pismo

        assert pismo.verify(subs["pismo"]["secret"], post.headers["x-sandbox-signature"], post.body)


def test_events_of_a_clock_move_are_pushed_without_anyone_reading_them(served_sandbox, receiver):
    server = served_sandbox  # two workers
    flow = Flow(server.url)
    hook = receiver()
    flow.freeze()
    tenant = flow.tenant()
    flow.subscribe(hook.url)
    flow.pay(tenant)
    assert hook.wait_for(lambda: len(hook.posts()) == 1)
    flow.advance(60)  # the PAID transition happens inside the clock move
    assert hook.wait_for(lambda: len(hook.posts()) == 2)
    assert hook.posts()[1].json()["data"]["new_status"] == "PAID"


def test_a_kill_9_with_deliveries_pending_loses_none_of_them(killable, receiver, tmp_path):
    db = str(tmp_path / "crash.db")
    server = killable(db)
    flow = Flow(server.url)
    hook = receiver(statuses=[503] * 1000)
    flow.freeze()
    flow.subscribe(hook.url, retry={"backoff_seconds": 0.2, "backoff_max_seconds": 0.5, "max_attempts": 100})
    tenants = [flow.tenant() for _ in range(2)]
    for tenant in tenants:
        flow.pay(tenant)
    flow.settle()
    written = sorted(e["event_id"] for e in flow.events())
    assert len(written) == 8
    assert hook.wait_for(lambda: len(hook.posts()) >= 8)  # attempted, refused: all still pending
    assert {d["status"] for d in flow.deliveries()} == {"pending"}
    server.kill()
    hook.statuses.clear()  # the receiver recovers meanwhile
    received_before = len(hook.posts())
    restarted = killable(db)
    assert hook.wait_for(lambda: len(Flow(restarted.url).deliveries(status="delivered")) == 8)
    acknowledged = sorted({p.json()["event_id"] for p in hook.posts()[received_before:]})
    assert acknowledged == written


def test_serve_subscribe_and_fault_files_apply_at_start_up_and_restart_repeats_nothing(killable, receiver, tmp_path):
    hook = receiver()
    db = str(tmp_path / "subscribed.db")
    faults = tmp_path / "faults.yaml"
    faults.write_text("delivery_rules:\n  - {match: {domain: intl-bankaccounts}, action: {type: duplicate}}\n")
    args = {"subscribe": hook.url, "subscribe_format": "pubsub", "subscribe_secret": "a-long-secret", "faults": faults}
    server = killable(db, **args)
    flow = Flow(server.url)
    [sub] = flow.client.subscriptions()
    assert sub["format"] == "pubsub" and sub["url"] == hook.url
    [rule] = flow.client.delivery_faults()
    assert rule["action"] == {"type": "duplicate", "copies": 1}
    flow.register_bank_account(flow.tenant())
    assert hook.wait_for(lambda: len(hook.posts()) == 2)  # pushed from start-up on, and duplicated
    assert len({p.json()["message"]["messageId"] for p in hook.posts()}) == 1
    server.stop()
    again = killable(db, **args)
    assert [s["subscription_id"] for s in Flow(again.url).client.subscriptions()] == [sub["subscription_id"]]
    assert "a-long-secret" not in server.output() + again.output()


def test_a_served_receiver_failing_twice_gets_the_event_on_the_third_attempt(served_sandbox, receiver):
    server = served_sandbox  # two workers
    flow = Flow(server.url)
    hook = receiver(statuses=[503, 502])
    flow.subscribe(hook.url, retry={"backoff_seconds": 0.1, "backoff_max_seconds": 0.2})
    flow.register_bank_account(flow.tenant())
    assert hook.wait_for(lambda: len(flow.deliveries(status="delivered")) == 1)
    [delivery] = flow.deliveries()
    assert [(a["outcome"], a["http_status"]) for a in delivery["attempts"]] == [
        ("rejected", 503),
        ("rejected", 502),
        ("acknowledged", 200),
    ]
    assert len(hook.posts()) == 3


def test_with_two_workers_each_delivery_is_attempted_once(served_sandbox, receiver):
    server = served_sandbox  # two workers
    flow = Flow(server.url)
    hook = receiver()
    flow.subscribe(hook.url)
    tenants = [flow.tenant() for _ in range(30)]
    for tenant in tenants:
        flow.register_bank_account(tenant)
    written = {e["event_id"] for e in flow.events() if e["event_type"] == "intl_bankaccount_register-1"}
    assert hook.wait_for(lambda: len(hook.posts()) >= 30)
    assert hook.wait_for(lambda: len(flow.deliveries(status="delivered")) == 30)
    deliveries = [p.headers["x-sandbox-delivery-id"] for p in hook.posts()]
    assert len(deliveries) == len(set(deliveries)) == 30  # no attempt made twice
    assert {p.json()["event_id"] for p in hook.posts()} == written
