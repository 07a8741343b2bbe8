"""Event delivery rules, free of Flask: subscriptions (and the SNS confirmation a receiver
makes), the delivery log, and the delivery fault rules. What the delivery worker does with
them (fan-out, leases, attempts, retries) is the outbox's (outbox.py).
"""

from __future__ import annotations

import builtins
from dataclasses import asdict
from collections.abc import Callable
from urllib.parse import urlsplit

from marshmallow import ValidationError

from pismo_sandbox.config import Config
from pismo_sandbox.domains.deliveries import formats
from pismo_sandbox.domains.deliveries.errors import (
    ConfirmationRefused,
    DeliveryFaultNotFound,
    InvalidDeliveryFault,
    InvalidSubscription,
    SubscriptionNotFound,
)
from pismo_sandbox.domains.deliveries.formats import sns
from pismo_sandbox.domains.deliveries.outbox import SECRET_CONTEXT, Outbox, RetryPolicy, instant, pending_delivery
from pismo_sandbox.domains.deliveries.parts import DeliveryParts
from pismo_sandbox.domains.deliveries.schemas import dump_rule, load_rule


def allowed_hosts(config: Config) -> set[str] | None:
    """The hosts subscriptions may push to (None: any)."""
    hosts = {h.strip().lower() for h in config.delivery_hosts.split(",") if h.strip()}
    return None if "*" in hosts else hosts


def url_problem(url: str, allowed: set[str] | None) -> str | None:
    """Why the sandbox will not push to ``url`` (None: it will)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an http or https URL with a host"
    if allowed is not None and host.lower() not in allowed:
        return (
            f"host {host} is not allowed; this sandbox delivers to {', '.join(sorted(allowed))}"
            " (PISMO_SANDBOX_DELIVERY_HOSTS)"
        )
    return None


class DeliveryService:
    def __init__(self, parts: DeliveryParts):
        self.parts = parts
        self.store, self.repo, self.keys, self.box = parts.store, parts.repo, parts.keys, parts.box
        self.ids, self.config = parts.ids, parts.config
        self.default_retry = RetryPolicy.from_config(parts.config)
        self.allowed_hosts = allowed_hosts(parts.config)
        self.outbox = Outbox(parts)

    @property
    def wall(self) -> Callable[[], float]:
        """Seconds since the epoch (injectable: the outbox reads the same clock)."""
        return self.parts.wall

    @wall.setter
    def wall(self, wall: Callable[[], float]) -> None:
        self.parts.wall = wall

    # -- subscriptions ----------------------------------------------------------------------------
    def subscribe(self, body: dict, public_base: str) -> dict:
        """Create a subscription; its secret is in this answer only."""
        url = body["url"]
        problem = url_problem(url, self.allowed_hosts)
        if problem:
            raise InvalidSubscription(details=f"url: {problem}")
        fmt = body.get("format", "pismo")
        if fmt not in formats.FORMATS:
            raise InvalidSubscription(details=f"format: one of {', '.join(formats.FORMATS)}")
        given = {k: v for k, v in (body.get("retry") or {}).items() if v is not None}
        if "max_attempts" in given:
            given["max_attempts"] = int(given["max_attempts"])  # JSON Schema's integer admits 5.0
        retry = RetryPolicy(**{**asdict(self.default_retry), **given})
        secret = body.get("secret") or f"whsec_{self.ids.token(24)}"
        subscription_id = f"sub-{self.ids.uuid()}"
        now = self.wall()
        confirming = fmt in formats.CONFIRMING
        row = {
            "subscription_id": subscription_id,
            "url": url,
            "format": fmt,
            "filter": {k: v for k, v in (body.get("filter") or {}).items() if v is not None},
            "secret": self.box.seal(secret, SECRET_CONTEXT + subscription_id),
            "retry": asdict(retry),
            "status": "pending_confirmation" if confirming else "active",
            "confirm_token": self.ids.token(32) if confirming else None,
            "public_base": public_base.rstrip("/"),
            "created_at": instant(now),
        }
        with self.store.transaction() as db:
            row["cursor"] = self.repo.last_event_seq(db)
            self.repo.insert_subscription(db, row)
            if confirming:
                self.repo.insert_delivery(
                    db,
                    pending_delivery(
                        subscription_id, "confirmation", now, delivery_id=f"dlv-{self.ids.uuid()}", copy=0
                    ),
                )
        return {**self.get(subscription_id), "secret": secret}

    def served_at(self, placeholder: str, base_url: str) -> int:
        """Subscriptions made before the server bound a free port (``--port 0``) name the sandbox
        by ``placeholder``; point their SNS URLs at where it is served."""
        with self.store.transaction() as db:
            return self.repo.replace_public_base(db, placeholder.rstrip("/"), base_url.rstrip("/"))

    def list(self) -> list[dict]:
        return [_public(s) for s in self.repo.subscriptions()]

    def get(self, subscription_id: str) -> dict:
        row = self.repo.subscription(subscription_id)
        if row is None:
            raise SubscriptionNotFound(details=f"subscription {subscription_id} does not exist")
        return _public(row)

    def delete(self, subscription_id: str) -> None:
        """Remove a subscription and its pending deliveries (its log goes with it)."""
        with self.store.transaction() as db:
            if not self.repo.delete_subscription(db, subscription_id):
                raise SubscriptionNotFound(details=f"subscription {subscription_id} does not exist")

    def sns_action(self, action: str, topic_arn: str | None, token: str | None, subscription_arn: str | None) -> dict:
        """The SubscribeURL (ConfirmSubscription) and UnsubscribeURL (Unsubscribe) of sns
        subscriptions, answered in the shape of SNS's query API (as JSON)."""
        if action == "ConfirmSubscription":
            if topic_arn != sns.TOPIC_ARN or not token:
                raise ConfirmationRefused(details="unknown topic or missing token")
            with self.store.transaction() as db:
                found = [s for s in self.repo.subscriptions(db) if s["confirm_token"] == token]
                if not found:
                    raise ConfirmationRefused(details="no subscription waits for this token")
                self.repo.activate(db, found[0]["subscription_id"])
            arn = sns.subscription_arn(found[0]["subscription_id"])
            return {"ConfirmSubscriptionResponse": {"ConfirmSubscriptionResult": {"SubscriptionArn": arn}}}
        prefix = sns.TOPIC_ARN + ":"
        if not subscription_arn or not subscription_arn.startswith(prefix):
            raise ConfirmationRefused(details="unknown subscription")
        self.delete(subscription_arn[len(prefix) :])
        return {"UnsubscribeResponse": {"ResponseMetadata": {"RequestId": self.ids.uuid()}}}

    # -- the delivery log --------------------------------------------------------------------------
    def deliveries(
        self,
        subscription_id: str | None = None,
        event_id: str | None = None,
        status: str | None = None,
        limit: int = 100,
        newest: bool = False,
    ) -> builtins.list[dict]:
        """The delivery log, oldest first (newest: the latest ``limit``, newest first)."""
        rows = self.repo.deliveries(
            subscription_id=subscription_id, event_id=event_id, status=status, limit=limit, newest=newest
        )
        return [_delivery(row) for row in rows]

    # -- delivery fault rules ----------------------------------------------------------------------
    def add_rule(self, data: dict) -> dict:
        try:
            rule = load_rule(data)
        except ValidationError as error:
            raise InvalidDeliveryFault(details=_flatten(error.messages)) from None
        rule_id = f"dfault-{self.ids.uuid()[:8]}"
        with self.store.transaction() as db:
            self.repo.insert_rule(db, rule_id, dump_rule(rule), instant(self.wall()))
        return self.get_rule(rule_id)

    def replace_rules(self, rules: builtins.list[dict]) -> builtins.list[dict]:
        """Validate every rule, then swap them in at once (fault files)."""
        parsed = [dump_rule(load_rule(r)) for r in rules]
        ids = []
        with self.store.transaction() as db:
            self.repo.delete_rules(db)
            for rule in parsed:
                ids.append(f"dfault-{self.ids.uuid()[:8]}")
                self.repo.insert_rule(db, ids[-1], rule, instant(self.wall()))
        return [self.get_rule(i) for i in ids]

    def rules(self) -> builtins.list[dict]:
        return [_public_rule(r) for r in self.repo.rules()]

    def get_rule(self, rule_id: str) -> dict:
        row = self.repo.rule(rule_id)
        if row is None:
            raise DeliveryFaultNotFound(details=f"delivery fault rule {rule_id} does not exist")
        return _public_rule(row)

    def delete_rule(self, rule_id: str) -> None:
        with self.store.transaction() as db:
            if not self.repo.delete_rule(db, rule_id):
                raise DeliveryFaultNotFound(details=f"delivery fault rule {rule_id} does not exist")

    def clear_rules(self) -> None:
        with self.store.transaction() as db:
            self.repo.delete_rules(db)


def _public(row: dict) -> dict:
    out = {
        "subscription_id": row["subscription_id"],
        "url": row["url"],
        "format": row["format"],
        "filter": row["filter"],
        "retry": row["retry"],
        "status": row["status"],
        "created_at": row["created_at"],
    }
    if row["format"] == "sns":
        out["topic_arn"] = sns.TOPIC_ARN
        out["subscription_arn"] = sns.subscription_arn(row["subscription_id"])
    elif row["format"] == "pubsub":
        from pismo_sandbox.domains.deliveries.formats.pubsub import subscription_name

        out["pubsub_subscription"] = subscription_name(row["subscription_id"])
    return out


def _fault(rule_id: str | None, action: str | None) -> dict | None:
    return {"rule_id": rule_id, "action": action} if rule_id else None


def _delivery(row: dict) -> dict:
    pending = row["status"] in ("pending", "held")
    return {
        "delivery_id": row["delivery_id"],
        "subscription_id": row["subscription_id"],
        "kind": row["kind"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "copy": row["copy"],
        "status": row["status"],
        "fault": _fault(row["fault_rule"], row["fault_action"]),
        "created_at": row["created_at"],
        "next_attempt_at": (
            instant(row["due_at"] if row["status"] == "pending" else row["held_until"]) if pending else None
        ),
        "attempts": [
            {
                "attempt": a["attempt"],
                "attempted_at": a["attempted_at"],
                "outcome": a["outcome"],
                "http_status": a["http_status"],
                "error": a["error"],
                "latency_ms": a["latency_ms"],
                "fault": _fault(a["fault_rule"], a["fault_action"]),
            }
            for a in row["attempt_rows"]
        ],
    }


def _public_rule(row: dict) -> dict:
    return {
        "id": row["id"],
        **row["rule"],
        "matched": row["matched"],
        "fired": row["fired"],
        "created_at": row["created_at"],
    }


def _flatten(messages: object, prefix: str = "") -> str:
    from pismo_sandbox.faults.engine import _flatten as flatten

    return flatten(messages, prefix)
