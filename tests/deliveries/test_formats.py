"""Every event of a pay flow reaches a local receiver in each format, framed as the real
transport frames an HTTP push (driven in-process: the test runs the worker's rounds)."""

from __future__ import annotations

import base64
import json

from pismo_sandbox.domains.deliveries.formats import pismo, sns
from pismo_sandbox.domains.deliveries.signing import verify
from tests.http._bankslips import payer, slips  # noqa: F401 (fixtures)

PAY_FLOW = [
    "authorization-event-1",
    "bankslip_status_change-1",
    "bankslip_status_change-1",
    "financial_reconciliation-1",
]


def _pay_flow(slips, payer) -> list[dict]:
    """Pay a boleto and let it settle; the tenant's events, oldest first."""
    slips.paid(payer)
    slips.advance(5)  # PROCESSING -> PAID
    slips.advance(7 * 86400)  # PAID -> SETTLED, then the reconciliation
    return slips.events(payer)


def _subscribe(client, receiver, fmt: str, **extra) -> dict:
    response = client.post("/_sandbox/subscriptions", json={"url": receiver.url, "format": fmt, **extra})
    assert response.status_code == 201, response.json
    return response.json


def test_pismo_format_posts_each_envelope_signed_with_the_secret(client, worker, receiver, slips, payer):
    hook = receiver()
    sub = _subscribe(client, hook, "pismo", filter={"tenant_id": payer.tenant_id})
    events = _pay_flow(slips, payer)
    worker.run_until_idle()
    assert [e["event_type"] for e in events] == PAY_FLOW
    posts = hook.posts()
    bodies = [p.json() for p in posts]
    assert [b["event_id"] for b in bodies] == [e["event_id"] for e in events]
    assert bodies[0] == {k: v for k, v in events[0].items() if k != "seq"}
    assert [b["data"].get("new_status") for b in bodies[1:3]] == ["PAID", "SETTLED"]
    for post in posts:
        assert post.headers["content-type"] == "application/json"
        assert post.headers["x-sandbox-event-id"] == post.json()["event_id"]
        assert pismo.verify(sub["secret"], post.headers["x-sandbox-signature"], post.body)
        assert not pismo.verify("another-secret", post.headers["x-sandbox-signature"], post.body)
        assert not pismo.verify(sub["secret"], post.headers["x-sandbox-signature"], post.body + b" ")


def test_pubsub_format_wraps_the_envelope_in_a_push_request(client, worker, receiver, slips, payer):
    hook = receiver()
    sub = _subscribe(client, hook, "pubsub")
    events = _pay_flow(slips, payer)
    worker.run_until_idle()
    bodies = [p.json() for p in hook.posts()]
    assert len(bodies) == len(events) == 4
    for body, event in zip(bodies, events):
        assert set(body) == {"message", "subscription"}
        assert body["subscription"] == f"projects/pismo-sandbox/subscriptions/{sub['subscription_id']}"
        message = body["message"]
        assert json.loads(base64.b64decode(message["data"])) == {k: v for k, v in event.items() if k != "seq"}
        assert message["messageId"] == message["message_id"] and message["messageId"].isdigit()
        assert message["publishTime"] == message["publish_time"] == event["timestamp"]
        assert message["attributes"]["event_type"] == event["event_type"]
    assert len({b["message"]["messageId"] for b in bodies}) == 4


def test_sns_format_confirms_first_then_sends_signed_notifications(client, worker, receiver, slips, payer):
    hook = receiver()
    sub = _subscribe(client, hook, "sns")
    slips.paid(payer)
    worker.run_until_idle()
    confirmations = hook.posts("SubscriptionConfirmation")
    assert len(confirmations) == 1 and hook.posts("Notification") == []  # nothing flows unconfirmed
    confirmation = confirmations[0].json()
    assert confirmations[0].headers["x-amz-sns-topic-arn"] == sns.TOPIC_ARN
    certificate = client.get(confirmation["SigningCertURL"].replace("http://localhost", "")).get_data(as_text=True)
    assert verify(certificate, sns.canonical(confirmation), confirmation["Signature"])
    # The receiver visits the SubscribeURL.
    confirmed = client.get(confirmation["SubscribeURL"].replace("http://localhost", ""))
    assert confirmed.status_code == 200, confirmed.json
    assert client.get(f"/_sandbox/subscriptions/{sub['subscription_id']}").json["status"] == "active"
    slips.advance(5)
    slips.advance(7 * 86400)
    events = slips.events(payer)
    worker.run_until_idle()
    notifications = hook.posts("Notification")
    assert [json.loads(n.json()["Message"])["event_id"] for n in notifications] == [e["event_id"] for e in events]
    for post in notifications:
        message = post.json()
        assert post.headers["content-type"].startswith("text/plain")
        assert post.headers["x-amz-sns-message-id"] == message["MessageId"]
        assert post.headers["x-amz-sns-subscription-arn"] == sub["subscription_arn"]
        assert {
            "Type",
            "MessageId",
            "TopicArn",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "UnsubscribeURL",
        } <= set(message)
        assert message["SignatureVersion"] == "2"
        assert verify(certificate, sns.canonical(message), message["Signature"])
        tampered = {**message, "Message": message["Message"].replace("event_id", "event_ix")}
        assert not verify(certificate, sns.canonical(tampered), message["Signature"])


def test_a_wrong_confirmation_token_confirms_nothing(client):
    sub = client.post("/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/", "format": "sns"}).json
    response = client.get(
        "/_sandbox/sns",
        query_string={"Action": "ConfirmSubscription", "TopicArn": sns.TOPIC_ARN, "Token": "not-the-token"},
    )
    assert response.status_code == 404
    assert client.get(f"/_sandbox/subscriptions/{sub['subscription_id']}").json["status"] == "pending_confirmation"


def test_the_unsubscribe_url_removes_the_subscription(client):
    sub = client.post("/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/", "format": "sns"}).json
    url = sns.unsubscribe_url("", sub["subscription_id"])
    assert client.get(url).status_code == 200
    assert client.get(f"/_sandbox/subscriptions/{sub['subscription_id']}").status_code == 404


def test_a_filter_limits_what_is_delivered(client, worker, receiver, slips, payer):
    hook = receiver()
    _subscribe(client, hook, "pismo", filter={"event_type": "bankslip_status_change"})
    other = receiver()
    _subscribe(client, other, "pismo", filter={"tenant_id": "someone-else"})
    _pay_flow(slips, payer)
    worker.run_until_idle()
    assert [p.json()["data"]["new_status"] for p in hook.posts()] == ["PAID", "SETTLED"]
    assert other.posts() == []


def test_events_written_before_subscribing_are_not_delivered(client, worker, receiver, slips, payer):
    slips.paid(payer)
    hook = receiver()
    _subscribe(client, hook, "pismo")
    worker.run_until_idle()
    assert hook.posts() == []
    slips.advance(5)
    worker.run_until_idle()
    assert [p.json()["data"]["new_status"] for p in hook.posts()] == ["PAID"]
