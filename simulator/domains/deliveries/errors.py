"""Errors of the event-delivery admin API (sandbox codes, like the rest of /_sandbox)."""

from pismo_sandbox.errors import NotFound, SandboxError


class InvalidSubscription(SandboxError):
    status, code, message = 400, "SANDBOX_INVALID_SUBSCRIPTION", "Invalid subscription"


class SubscriptionNotFound(NotFound):
    pass


class InvalidDeliveryFault(SandboxError):
    status, code, message = 400, "SANDBOX_INVALID_FAULT_RULE", "Invalid fault rule"


class DeliveryFaultNotFound(NotFound):
    pass


class ConfirmationRefused(NotFound):
    """An SNS SubscribeURL or UnsubscribeURL whose topic, subscription or token is unknown."""
