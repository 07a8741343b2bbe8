"""The pure parts of event delivery: filters, the backoff, signatures and message ids."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from pismo_sandbox.domains.deliveries.formats import Push, pismo, pubsub, sns
from pismo_sandbox.domains.deliveries.outbox import RetryPolicy, event_type_matches, filter_matches

names = st.from_regex(r"[a-z][a-z_-]{0,30}", fullmatch=True)
ENVELOPE = {
    "event_id": "e-1",
    "schema_version": 1,
    "domain": "integrated-payments",
    "event_type": "bankslip_status_change-1",
    "org_id": "TN-1",
    "cid": None,
    "timestamp": "2025-06-02T13:00:00.000Z",
    "data": {"new_status": "PAID"},
}


@given(name=names, version=st.integers(min_value=1, max_value=999))
def test_an_event_type_without_version_matches_every_version(name, version):
    assert event_type_matches(name, f"{name}-{version}")
    assert event_type_matches(f"{name}-{version}", f"{name}-{version}")
    assert not event_type_matches(f"{name}-{version}", f"{name}-{version + 1}")
    assert not event_type_matches(name + "x", f"{name}-{version}")


@given(domain=names, tenant=names, other=names)
def test_every_given_filter_field_must_agree(domain, tenant, other):
    event = {"domain": domain, "event_type": "thing-1", "org_id": tenant}
    assert filter_matches({}, event)
    assert filter_matches({"domain": domain, "tenant_id": tenant, "event_type": "thing"}, event)
    assert filter_matches({"domain": other}, event) == (other == domain)
    assert filter_matches({"tenant_id": other, "domain": domain}, event) == (other == tenant)


@given(
    first=st.floats(min_value=0, max_value=100),
    factor=st.floats(min_value=1, max_value=10),
    cap=st.floats(min_value=0, max_value=1000),
    n=st.integers(min_value=1, max_value=50),
)
def test_backoff_grows_and_never_passes_its_cap(first, factor, cap, n):
    policy = RetryPolicy(10, first, factor, cap, 5)
    assert 0 <= policy.backoff(n) <= cap
    assert policy.backoff(n) <= policy.backoff(n + 1)


@given(
    secret=st.text(min_size=1, max_size=50),
    body=st.binary(max_size=500),
    timestamp=st.integers(min_value=0, max_value=2**40),
)
def test_a_pismo_signature_verifies_only_its_own_body_and_secret(secret, body, timestamp):
    header = f"t={timestamp},v1={pismo.signature(secret, timestamp, body)}"
    assert pismo.verify(secret, header, body)
    assert not pismo.verify(secret + "x", header, body)
    assert not pismo.verify(secret, header, body + b"x")
    assert not pismo.verify(secret, f"t={timestamp + 1},v1={pismo.signature(secret, timestamp, body)}", body)


def test_the_sns_canonical_string_lists_the_fields_sns_signs_in_its_order():
    message = {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "arn",
        "Message": "{}",
        "Timestamp": "t",
        "SignatureVersion": "2",
        "UnsubscribeURL": "u",
    }
    assert sns.canonical(message) == "Message\n{}\nMessageId\nm\nTimestamp\nt\nTopicArn\narn\nType\nNotification\n"
    assert "Subject\ns\n" in sns.canonical({**message, "Subject": "s"})
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "m",
        "Token": "k",
        "TopicArn": "arn",
        "Message": "x",
        "SubscribeURL": "s",
        "Timestamp": "t",
    }
    assert sns.canonical(confirmation) == (
        "Message\nx\nMessageId\nm\nSubscribeURL\ns\nTimestamp\nt\n"
        "Token\nk\nTopicArn\narn\nType\nSubscriptionConfirmation\n"
    )


def test_message_ids_are_stable_per_event_and_subscription():
    assert pubsub.message_id("sub-1", "e-1") == pubsub.message_id("sub-1", "e-1")
    assert pubsub.message_id("sub-1", "e-1") != pubsub.message_id("sub-2", "e-1")
    assert sns.message_id("sub-1", "e-1") == sns.message_id("sub-1", "e-1") != sns.message_id("sub-1", "e-2")


def test_each_attempt_of_a_pubsub_push_carries_the_same_message():
    def framed(attempt: int):
        return pubsub.frame(Push("event", ENVELOPE, "sub-1", f"dlv-{attempt}", attempt, None, "http://x", None, 1.0))

    first, retry = framed(1), framed(2)
    assert json.loads(first.body) == json.loads(retry.body)
