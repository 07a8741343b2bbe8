"""The ``sns`` format: Amazon SNS HTTP/S delivery.

A ``SubscriptionConfirmation`` first (its ``SubscribeURL`` is a sandbox URL the receiver GETs
to confirm), then ``Notification`` messages with ``Message`` holding the envelope as a string.
Signed as SNS signs with SignatureVersion 2: SHA256withRSA (PKCS#1 v1.5) over the canonical
string ("Name\\nvalue\\n" for the fields SNS lists, in its order), base64, with the sandbox's
certificate at ``SigningCertURL``. Headers ``x-amz-sns-message-type``, ``-message-id``,
``-topic-arn`` (and ``-subscription-arn`` on notifications); the body is JSON sent as
``text/plain; charset=UTF-8``, as SNS does.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

from pismo_sandbox.clock import isoformat
from pismo_sandbox.domains.deliveries.formats import Framed, Push, SnsKeys, envelope_json
from datetime import UTC

REGION, ACCOUNT = "us-east-1", "000000000000"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:pismo-sandbox-events"
CERTIFICATE_PATH = "/_sandbox/sns/SimpleNotificationService-sandbox.pem"
ENDPOINT_PATH = "/_sandbox/sns"
_NAMESPACE = uuid.UUID("0b6f1a52-45c4-4bd2-9d4c-3d0f6f1f9a51")

# The fields of the string to sign, per message type (AWS: "Verifying the signatures of
# Amazon SNS messages"); Subject only when present.
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def subscription_arn(subscription_id: str) -> str:
    return f"{TOPIC_ARN}:{subscription_id}"


def message_id(subscription_id: str, key: str) -> str:
    """The same MessageId for every delivery of one message to one subscription."""
    return str(uuid.uuid5(_NAMESPACE, f"{subscription_id}:{key}"))


def canonical(message: dict) -> str:
    """The string SNS signs for this message."""
    names = NOTIFICATION_FIELDS if message["Type"] == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{name}\n{message[name]}\n" for name in names if name in message)


def subscribe_url(base: str, subscription_id: str, token: str) -> str:
    return f"{base}{ENDPOINT_PATH}?Action=ConfirmSubscription&TopicArn={quote(TOPIC_ARN, safe='')}&Token={token}"


def unsubscribe_url(base: str, subscription_id: str) -> str:
    return (
        f"{base}{ENDPOINT_PATH}?Action=Unsubscribe&SubscriptionArn={quote(subscription_arn(subscription_id), safe='')}"
    )


def frame(push: Push, keys: SnsKeys | None) -> Framed:
    assert keys is not None, "the sns format signs every message"
    signer = keys.sns_signer()
    if push.kind == "confirmation":
        assert push.confirm_token is not None, "a confirmation push carries its token"
        message = {
            "Type": "SubscriptionConfirmation",
            "MessageId": message_id(push.subscription_id, "confirmation"),
            "Token": push.confirm_token,
            "TopicArn": TOPIC_ARN,
            "Message": (
                f"You have chosen to subscribe to the topic {TOPIC_ARN}.\nTo confirm the"
                " subscription, visit the SubscribeURL included in this message."
            ),
            "SubscribeURL": subscribe_url(push.public_base, push.subscription_id, push.confirm_token),
            "Timestamp": isoformat_epoch(push.now),
        }
    else:
        assert push.envelope is not None, "an event push carries its envelope"
        message = {
            "Type": "Notification",
            "MessageId": message_id(push.subscription_id, push.envelope["event_id"]),
            "TopicArn": TOPIC_ARN,
            "Message": envelope_json(push.envelope),
            "Timestamp": push.envelope["timestamp"],
        }
    message["SignatureVersion"] = "2"
    message["Signature"] = signer.sign(canonical(message))
    message["SigningCertURL"] = push.public_base + CERTIFICATE_PATH
    if push.kind != "confirmation":
        message["UnsubscribeURL"] = unsubscribe_url(push.public_base, push.subscription_id)
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-message-id": message["MessageId"],
        "x-amz-sns-topic-arn": TOPIC_ARN,
    }
    if push.kind != "confirmation":
        headers["x-amz-sns-subscription-arn"] = subscription_arn(push.subscription_id)
    return Framed(headers, json.dumps(message, indent=2).encode(), message["MessageId"])


def isoformat_epoch(seconds: float) -> str:
    from datetime import datetime

    return isoformat(datetime.fromtimestamp(seconds, UTC))
