"""Delivery fault rules (marshmallow): the request-fault format (match, action, schedule) for pushed events.

match: domain, event_type (with or without its -<version> suffix), tenant_id, subscription_id.
action: duplicate (copies), delay (fixed, uniform or lognormal, as request faults), drop (the
attempt is lost and the sandbox redelivers later), reorder (hold `window` deliveries, at most
`hold_ms`, then release them in another order). schedule: nth / times / probability / seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from pismo_sandbox.faults.rules import (
    MAX_MS,
    Action,
    DelaySchema,
    Schedule,
    ScheduleSchema,
    _WholeNumber,
    check_delay,
    compact,
)

DELIVERY_ACTIONS = ("duplicate", "delay", "drop", "reorder")
DEFAULT_HOLD_MS = 2000


@dataclass(frozen=True)
class DeliveryMatch:
    domain: str | None = None
    event_type: str | None = None
    tenant_id: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True)
class DeliveryAction:
    type: str
    copies: int | None = None
    ms: int | None = None
    distribution: str = "fixed"
    min_ms: int | None = None
    max_ms: int | None = None
    median_ms: float | None = None
    sigma: float | None = None
    cap_ms: int | None = None
    window: int | None = None
    hold_ms: int | None = None

    def as_delay(self) -> Action:
        """The request-fault delay action with the same parameters (one set of distributions)."""
        return Action(
            type="delay",
            ms=self.ms,
            distribution=self.distribution,
            min_ms=self.min_ms,
            max_ms=self.max_ms,
            median_ms=self.median_ms,
            sigma=self.sigma,
            cap_ms=self.cap_ms,
        )


@dataclass(frozen=True)
class DeliveryFaultRule:
    match: DeliveryMatch
    action: DeliveryAction
    schedule: Schedule = field(default_factory=Schedule)
    description: str | None = None


class DeliveryMatchSchema(Schema):
    class Meta:
        unknown = RAISE

    domain = fields.String(load_default=None, allow_none=False)
    event_type = fields.String(load_default=None, allow_none=False)
    tenant_id = fields.String(load_default=None, allow_none=False)
    subscription_id = fields.String(load_default=None, allow_none=False)

    @post_load
    def make(self, data: dict, **_: object) -> DeliveryMatch:
        return DeliveryMatch(**data)


class DeliveryActionSchema(DelaySchema):
    """A delivery fault's action: its delay parameters are the request faults' (DelaySchema)."""

    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(DELIVERY_ACTIONS))
    copies = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(1, 10))
    window = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(2, 100))
    hold_ms = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(0, MAX_MS))

    @validates_schema
    def check(self, data: dict, **_: object) -> None:
        kind = data["type"]
        allowed = {
            "duplicate": {"copies"},
            "drop": set(),
            "reorder": {"window", "hold_ms"},
            "delay": {"ms", "min_ms", "max_ms", "median_ms", "sigma", "cap_ms"},
        }[kind]
        given = {k for k, v in data.items() if v is not None and k not in ("type", "distribution")}
        extra = sorted(given - allowed)
        if extra:
            raise ValidationError(f"a {kind} action does not take {', '.join(extra)}", extra[0])
        if kind != "delay" and data.get("distribution", "fixed") != "fixed":
            raise ValidationError("only a delay action takes a distribution", "distribution")
        if kind == "reorder" and data.get("window") is None:
            raise ValidationError("a reorder action needs window (2-100)", "window")
        if kind == "delay":
            check_delay(data)

    @post_load
    def make(self, data: dict, **_: object) -> DeliveryAction:
        if data["type"] == "duplicate" and data.get("copies") is None:
            data["copies"] = 1
        if data["type"] == "reorder" and data.get("hold_ms") is None:
            data["hold_ms"] = DEFAULT_HOLD_MS
        return DeliveryAction(**data)


class DeliveryFaultRuleSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # id and counters, when a listed rule is posted back

    match = fields.Nested(DeliveryMatchSchema, load_default=dict)
    action = fields.Nested(DeliveryActionSchema, required=True)
    schedule = fields.Nested(ScheduleSchema, load_default=dict)
    description = fields.String(load_default=None, allow_none=False, validate=validate.Length(max=500))

    @post_load
    def make(self, data: dict, **_: object) -> DeliveryFaultRule:
        match = data["match"] if isinstance(data["match"], DeliveryMatch) else DeliveryMatch()
        schedule = data["schedule"] if isinstance(data["schedule"], Schedule) else Schedule()
        return DeliveryFaultRule(
            match=match, action=data["action"], schedule=schedule, description=data.get("description")
        )


def dump_rule(rule: DeliveryFaultRule) -> dict:
    """The rule as JSON, without unset optional fields."""
    action = compact(rule.action)
    if rule.action.type != "delay":
        action.pop("distribution", None)
    out: dict[str, object] = {"match": compact(rule.match), "action": action, "schedule": compact(rule.schedule)}
    if rule.description:
        out["description"] = rule.description
    return out


_schema = DeliveryFaultRuleSchema()


def load_rule(data: object) -> DeliveryFaultRule:
    """Validate one rule; raises marshmallow.ValidationError naming the field."""
    if not isinstance(data, dict):
        raise ValidationError("a delivery fault rule must be an object")
    return _schema.load(data)
