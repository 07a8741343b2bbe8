"""Fault rules: the marshmallow schema that validates them (admin API, --faults files) and the
typed rule the engine reads.

A rule is {match, action, phase, schedule}; see the README's "Fault injection" section.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Unpack

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from pismo_sandbox.contract.integers import INT64

if TYPE_CHECKING:
    from marshmallow.fields import _BaseFieldKwargs  # the keyword arguments every field takes


PHASES = ("before", "after")
ACTIONS = ("status", "delay", "timeout", "reset", "empty", "malformed")
SOCKET_ACTIONS = ("reset", "empty", "malformed")
DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
MAX_MS = 600_000


class _WholeNumber(fields.Integer):
    """An integer as sandbox-admin.yaml (JSON Schema) counts them: 5 and 5.0, never 5.5 or "5".
    (Found by the contract harness: a rule with "ms": 5.0 was schema-valid, yet refused.) And
    within 64 bits, as the document bounds every integer of a rule: a rule that comes another
    way than the admin API (the dashboard's form, a --faults file) is held to the same bounds
    (found by a property test: "nth": 9.223372036854776e18, which is 2**63, was taken from the
    form and refused by the admin API)."""

    def __init__(self, **kwargs: Unpack[_BaseFieldKwargs]) -> None:
        super().__init__(strict=True, **kwargs)
        self.validators.append(validate.Range(*INT64))  # besides the field's own, if any

    def _validated(self, value: object) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Match:
    operation_id: str | None = None
    method: str | None = None
    path: str | None = None  # exact, or a glob with * (fnmatch)
    tenant_id: str | None = None
    account_id: int | None = None


@dataclass(frozen=True)
class Action:
    type: str
    status: int | None = None
    body: dict | None = None
    ms: int | None = None
    distribution: str = "fixed"
    min_ms: int | None = None
    max_ms: int | None = None
    median_ms: float | None = None
    sigma: float | None = None
    cap_ms: int | None = None


@dataclass(frozen=True)
class Schedule:
    nth: int = 1  # first matching request (1-based) that may fire
    times: int | None = None  # how many times it fires at most (None: no limit)
    probability: float | None = None
    seed: int = 0


@dataclass(frozen=True)
class FaultRule:
    match: Match
    action: Action
    phase: str = "before"
    schedule: Schedule = field(default_factory=Schedule)
    description: str | None = None


class MatchSchema(Schema):
    class Meta:
        unknown = RAISE

    # Absent means "any"; null is refused, as the admin API's schema refuses it (the dashboard's
    # form and fault files go through this schema alone and must accept exactly the same).
    operation_id = fields.String(load_default=None, allow_none=False)
    method = fields.String(
        load_default=None,
        allow_none=False,
        validate=validate.OneOf(["GET", "POST", "PUT", "PATCH", "DELETE", "get", "post", "put", "patch", "delete"]),
    )
    path = fields.String(load_default=None, allow_none=False, validate=validate.Length(min=1, max=500))
    tenant_id = fields.String(load_default=None, allow_none=False)
    account_id = _WholeNumber(load_default=None, allow_none=False)

    @post_load
    def make(self, data: dict, **_: object) -> Match:
        if data.get("method"):
            data["method"] = data["method"].upper()
        return Match(**data)


class DelaySchema(Schema):
    """The parameters of a delay (fixed ``ms``, uniform ``min_ms``-``max_ms``, or lognormal
    ``median_ms``/``sigma`` capped at ``cap_ms``): one definition for the actions of request
    fault rules (ActionSchema) and of delivery fault rules (deliveries/schemas.py)."""

    class Meta:
        unknown = RAISE

    # Here, in ActionSchema, ScheduleSchema and the delivery rules' schemas alike, an optional
    # field may be absent but not null, as the admin API's schemas say (marshmallow would take
    # null for a field whose default is None): a fault file and the dashboard's form go through
    # these schemas alone and must accept exactly what the API accepts.
    ms = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(0, MAX_MS))
    distribution = fields.String(load_default="fixed", validate=validate.OneOf(DISTRIBUTIONS))
    min_ms = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(0, MAX_MS))
    max_ms = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(0, MAX_MS))
    median_ms = fields.Float(load_default=None, allow_none=False, validate=validate.Range(min=0, max=MAX_MS))
    sigma = fields.Float(load_default=None, allow_none=False, validate=validate.Range(min=0, max=10))
    cap_ms = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(0, MAX_MS))


def check_delay(data: dict) -> None:
    """A delay action's distribution has every parameter it needs, and a uniform range is one."""
    dist = data.get("distribution", "fixed")
    needs = {"fixed": ["ms"], "uniform": ["min_ms", "max_ms"], "lognormal": ["median_ms", "sigma", "cap_ms"]}[dist]
    missing = [name for name in needs if data.get(name) is None]
    if missing:
        raise ValidationError(f"a {dist} delay needs {', '.join(missing)}", missing[0])
    if dist == "uniform" and data["min_ms"] > data["max_ms"]:
        raise ValidationError("min_ms must not exceed max_ms", "min_ms")


class ActionSchema(DelaySchema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    status = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(400, 599))
    body = fields.Dict(load_default=None, allow_none=False)

    @validates_schema
    def check(self, data: dict, **_: object) -> None:
        kind = data["type"]
        if kind == "status" and data.get("status") is None:
            raise ValidationError("a status action needs status (400-599)", "status")
        if kind != "status" and (data.get("status") is not None or data.get("body") is not None):
            raise ValidationError("only a status action takes status and body", "status")
        if kind == "timeout" and data.get("ms") is None:
            raise ValidationError("a timeout action needs ms", "ms")
        if kind == "delay":
            check_delay(data)

    @post_load
    def make(self, data: dict, **_: object) -> Action:
        return Action(**data)


class ScheduleSchema(Schema):
    class Meta:
        unknown = RAISE

    nth = _WholeNumber(load_default=1, validate=validate.Range(min=1))
    times = _WholeNumber(load_default=None, allow_none=False, validate=validate.Range(min=1))
    probability = fields.Float(load_default=None, allow_none=False, validate=validate.Range(min=0, max=1))
    seed = _WholeNumber(load_default=0)

    @post_load
    def make(self, data: dict, **_: object) -> Schedule:
        return Schedule(**data)


class FaultRuleSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # id and counters, when a listed rule is posted back

    match = fields.Nested(MatchSchema, load_default=dict)
    action = fields.Nested(ActionSchema, required=True)
    phase = fields.String(load_default="before", validate=validate.OneOf(PHASES))
    schedule = fields.Nested(ScheduleSchema, load_default=dict)
    description = fields.String(load_default=None, allow_none=False, validate=validate.Length(max=500))

    @post_load
    def make(self, data: dict, **_: object) -> FaultRule:
        match = data["match"] if isinstance(data["match"], Match) else Match()
        schedule = data["schedule"] if isinstance(data["schedule"], Schedule) else Schedule()
        return FaultRule(
            match=match,
            action=data["action"],
            phase=data["phase"],
            schedule=schedule,
            description=data.get("description"),
        )


def compact(part: object) -> dict:
    """A part of a rule (match, action, schedule) as JSON, without its unset optional fields."""
    return {k: v for k, v in vars(part).items() if v is not None}


def dump_rule(rule: FaultRule) -> dict:
    """The rule as JSON, without unset optional fields."""
    action = compact(rule.action)
    if action.get("distribution") == "fixed" and rule.action.type != "delay":
        action.pop("distribution")
    out = {"match": compact(rule.match), "action": action, "phase": rule.phase, "schedule": compact(rule.schedule)}
    if rule.description:
        out["description"] = rule.description
    return out


_schema = FaultRuleSchema()


def load_rule(data: dict) -> FaultRule:
    """Validate one rule; raises marshmallow.ValidationError naming the field."""
    if not isinstance(data, dict):
        raise ValidationError("a fault rule must be an object")
    return _schema.load(data)


def known_operations() -> frozenset[str]:
    """The operationIds of every bundled document (what a rule's match.operation_id can name)."""
    from pismo_sandbox.contract.operations import load_contract

    return frozenset(load_contract().by_id)


def unknown_operation(operation_id: str, known: frozenset[str] | None = None) -> str | None:
    """Why ``operation_id`` names no operation (with the closest names), or None if it does one."""
    known = known_operations() if known is None else known
    if operation_id in known:
        return None
    close = difflib.get_close_matches(operation_id, sorted(known), n=3, cutoff=0.5)
    suggestion = f" (did you mean {' or '.join(repr(name) for name in close)}?)" if close else ""
    return (
        f"no operation is called {operation_id!r}{suggestion}; GET /_sandbox/openapi lists the"
        " documents and their operations"
    )


def validate_rule(data: dict) -> FaultRule:
    """A new rule (admin API, fault files, drill scenarios): load_rule, and its operation_id must
    name an operation of the bundled documents (a misspelt one would never fire).
    Raises marshmallow.ValidationError naming the field."""
    rule = load_rule(data)
    if rule.match.operation_id is not None:
        problem = unknown_operation(rule.match.operation_id)
        if problem:
            raise ValidationError({"match": {"operation_id": [problem]}})
    return rule
