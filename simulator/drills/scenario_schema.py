"""The drill scenario format as marshmallow schemas: every section, field and rule a scenario
file may hold (documented in scenarios/README.md), and the custom fields they use."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, NoReturn

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from pismo_sandbox.faults.rules import FaultRuleSchema, validate_rule


NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ACCOUNT_STATUSES = ("NORMAL", "BLOCKED", "CANCELLED", "PENDING", "CREATED")
PAYMENT_STATUSES = ("PROCESSING", "PAID", "SETTLED", "ERROR", "TIMEOUT", "CANCELLED")
PROVIDERS = ("BTG", "CELCOIN", "JDPI")
BANKSLIP_PROVIDERS = ("BTG", "CELCOIN", "ITAU", "JDPI")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PAY_OPERATION = "post-integrated-payments-api-v1-bankslips-pay"
BOLETO_FIELDS = (
    "name",
    "kind",
    "type",
    "bar_code",
    "digitable_line",
    "amount",
    "due_date",
    "bank",
    "segment",
    "free_field",
    "trigger",
    "fine",
    "interest",
    "discount",
)

# -- custom fields ---------------------------------------------------------------------------------


class OneOrMany(fields.Field):
    """A value or a list of values, each checked by ``inner``; always loads as a list."""

    def __init__(self, inner: fields.Field, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> list[Any]:
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValidationError("must not be empty")
        return [self.inner.deserialize(v) for v in values]


class Count(fields.Field):
    """``3`` (exactly) or ``{min: 1, max: 5}`` (either bound optional)."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, int | None]:
        if isinstance(value, bool):
            raise ValidationError("must be a number, or a mapping with min and/or max")
        if isinstance(value, int):
            if value < 0:
                raise ValidationError("must be 0 or more")
            return {"min": value, "max": value}
        if isinstance(value, dict):
            unknown = set(value) - {"min", "max"}
            if unknown or not value:
                raise ValidationError(
                    "a range has min and/or max only"
                    + (f" (unknown: {', '.join(sorted(map(str, unknown)))})" if unknown else "")
                )
            for bound in value.values():
                if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
                    raise ValidationError("min and max must be whole numbers, 0 or more")
            if "min" in value and "max" in value and value["min"] > value["max"]:
                raise ValidationError("min must not exceed max")
            return {"min": value.get("min"), "max": value.get("max")}
        raise ValidationError("must be a number, or a mapping with min and/or max")


class Command(fields.Field):
    """A command line: a string (split like a shell would) or a list of arguments."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | list[str]:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
            return [str(v) for v in value]
        raise ValidationError("must be a command line (a string) or a non-empty list of arguments")


class ExitCode(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> int | None:
        if value == "any":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise ValidationError("must be an exit code (0-255) or 'any'")
        return value


class Scalar(fields.Field):
    """An environment value: strings, numbers and booleans as text; mappings and lists as JSON."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> Any:
        if value is None:
            raise ValidationError("must not be null")
        return value


class Toggle(fields.Field):
    """An invariant's parameters: a mapping, ``{}``/null/true for the defaults, false to turn off."""

    def __init__(self, schema: type[Schema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema()

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> dict | None:
        if value is False:
            return None
        if value is None or value is True:
            value = {}
        if not isinstance(value, dict):
            raise ValidationError("must be a mapping of parameters, {} for the defaults, or false")
        return self.schema.load(value)


class FaultField(fields.Field):
    """A fault rule in the admin API's format (simulator.faults.rules), plus ``match.tenant`` /
    ``match.account`` naming a tenant or account of the setup (resolved when the drill runs)."""

    schema = FaultRuleSchema()
    sugar = ("tenant", "account")

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> dict[str, dict]:
        if not isinstance(value, dict):
            raise ValidationError("a fault rule must be a mapping")
        match = value.get("match")
        refs = {}
        if isinstance(match, dict):
            refs = {k: match[k] for k in self.sugar if k in match}
            bad = {k: [f"must be the name of a setup {k}"] for k, v in refs.items() if not isinstance(v, str)}
            if bad:
                raise ValidationError({"match": bad})
            value = {**value, "match": {k: v for k, v in match.items() if k not in self.sugar}}
        validate_rule(value)  # raises ValidationError naming the field, like the admin API
        return {"rule": value, "refs": refs}


# -- schemas ---------------------------------------------------------------------------------------


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ClockSchema(Strict):
    now = fields.String(load_default=None)
    freeze = fields.Boolean(load_default=True)

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("now") is not None:
            from pismo_sandbox.clock import parse_instant

            try:
                parse_instant(data["now"])
            except ValueError:
                raise ValidationError("must be an RFC 3339 date-time, e.g. 2025-06-02T13:00:00Z", "now") from None


class AccountSchema(Strict):
    name = fields.String(load_default=None, validate=validate.Regexp(NAME))
    account_id = fields.Integer(load_default=None, strict=True, validate=validate.Range(1, 2**53 - 1))
    status = fields.String(load_default="NORMAL", validate=validate.OneOf(ACCOUNT_STATUSES))


class CredentialSchema(Strict):
    provider = fields.String(required=True, validate=validate.OneOf(PROVIDERS))
    type = fields.String(required=True, validate=validate.OneOf(("PIX", "BAAS")))
    key = fields.String(required=True, validate=validate.Length(min=1))
    provider_data = fields.Dict(load_default=None)
    account = fields.String(load_default=None)  # whose token registers it (default: the tenant's first account)


class TenantSchema(Strict):
    name = fields.String(load_default=None, validate=validate.Regexp(NAME))
    tenant_id = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"))
    accounts = fields.List(fields.Nested(AccountSchema), load_default=None)
    credentials = fields.List(fields.Nested(CredentialSchema), load_default=list)
    bankslip_provider = fields.String(load_default=None, validate=validate.OneOf(BANKSLIP_PROVIDERS))


def _trigger_names() -> list[str]:
    from pismo_sandbox.domains.bankslips.triggers import TRIGGERS

    return sorted(TRIGGERS)


class BoletoSchema(Strict):
    """POST /_sandbox/boletos, plus a name the scenario refers to it by."""

    name = fields.String(required=True, validate=validate.Regexp(NAME))
    kind = fields.String(load_default="bank", validate=validate.OneOf(("bank", "dealership")))
    amount = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 99999999.99))
    due_date = fields.String(allow_none=True)  # absent: due in 30 days; null: no due date
    bank = fields.String(load_default=None)
    segment = fields.String(load_default=None)
    trigger = fields.String(load_default=None, validate=lambda v: v in _trigger_names() or _bad_trigger(v))
    free_field = fields.String(load_default=None)
    fine = fields.Float(load_default=None)
    interest = fields.Float(load_default=None)
    discount = fields.Float(load_default=None)


def _bad_trigger(value: str) -> NoReturn:
    close = " or ".join(repr(c) for c in difflib.get_close_matches(value, _trigger_names(), n=2))
    raise ValidationError(
        f"not a trigger of the catalogue{f' (did you mean {close}?)' if close else ''};"
        f" one of: {', '.join(_trigger_names())}"
    )


class SetupSchema(Strict):
    clock = fields.Nested(ClockSchema, load_default=None)
    tenants = fields.List(fields.Nested(TenantSchema), required=True, validate=validate.Length(min=1))
    boletos = fields.List(fields.Nested(BoletoSchema), load_default=list)


class ClientSchema(Strict):
    command = Command(required=True)
    task = fields.String(load_default=None)
    env = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")), values=Scalar(), load_default=dict
    )
    instances = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 16))
    timeout_seconds = fields.Float(load_default=60.0, validate=validate.Range(min=0.1, max=3600))
    cwd = fields.String(load_default=None)


class StepExpectSchema(Strict):
    status = OneOrMany(fields.Integer(strict=True, validate=validate.Range(100, 599)), load_default=None)
    body = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=None)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=None)
    error = fields.String(load_default=None, validate=validate.OneOf(("timeout", "connection")))


class RequestSchema(Strict):
    """A request the runner sends: a step, or a probe in expect.assertions."""

    method = fields.String(load_default="GET", validate=validate.OneOf(METHODS + tuple(m.lower() for m in METHODS)))
    path = fields.String(required=True, validate=validate.Regexp(r"^/", error="must start with /"))
    auth = fields.String(load_default=None)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    query = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    json = fields.Raw(load_default=None, allow_none=True)
    timeout_seconds = fields.Float(load_default=10.0, validate=validate.Range(min=0.05, max=600))


class StepSchema(RequestSchema):
    name = fields.String(required=True, validate=validate.Regexp(NAME))
    capture = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")),
        values=fields.String(),
        load_default=dict,
    )
    expect = fields.Nested(StepExpectSchema, load_default=None)


class AdvanceSchema(Strict):
    seconds = fields.Float(load_default=0, validate=validate.Range(min=0))
    minutes = fields.Float(load_default=0, validate=validate.Range(min=0))
    hours = fields.Float(load_default=0, validate=validate.Range(min=0))
    days = fields.Float(load_default=0, validate=validate.Range(min=0))

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if not any(data.get(k) for k in ("seconds", "minutes", "hours", "days")):
            raise ValidationError("give seconds, minutes, hours or days (more than 0)")


# -- invariants' parameters (simulator.drills.invariants) --


class NoSlipPaidTwiceSchema(Strict):
    ignore_statuses = fields.List(
        fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=lambda: ["ERROR", "TIMEOUT", "CANCELLED"]
    )


class RetriesReuseKeySchema(Strict):
    operations = fields.List(fields.String(), load_default=lambda: [PAY_OPERATION], validate=validate.Length(min=1))


class PaymentsReachStatusSchema(Strict):
    status = fields.String(load_default="SETTLED", validate=validate.OneOf(PAYMENT_STATUSES))
    boletos = fields.Raw(load_default="all")  # "all", or a list of boleto names, or {name: status}

    @validates_schema
    def check(self, data: dict[str, Any], **_: Any) -> None:
        boletos = data.get("boletos")
        if boletos == "all" or (isinstance(boletos, list) and all(isinstance(b, str) for b in boletos)):
            return
        if isinstance(boletos, dict) and all(s in PAYMENT_STATUSES for s in boletos.values()):
            return
        raise ValidationError(
            "must be 'all', a list of boleto names, or a mapping of boleto name to"
            f" status ({', '.join(PAYMENT_STATUSES)})",
            "boletos",
        )


class RetriesBoundedSchema(Strict):
    max_attempts = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=1000))
    final_statuses = fields.List(fields.Integer(strict=True, validate=validate.Range(400, 499)), load_default=list)
    operations = fields.List(fields.String(), load_default=None)


class EmptySchema(Strict):
    pass


class InvariantsSchema(Strict):
    no_slip_paid_twice = Toggle(NoSlipPaidTwiceSchema, load_default=None)
    retries_reuse_idempotency_key = Toggle(RetriesReuseKeySchema, load_default=None)
    payments_reach_status = Toggle(PaymentsReachStatusSchema, load_default=None)
    retries_bounded = Toggle(RetriesBoundedSchema, load_default=None)
    faults_fired = Toggle(EmptySchema, load_default=dict)
    contract_clean = Toggle(EmptySchema, load_default=dict)


# -- plain assertions (simulator.drills.assertions) --


class EventsFilter(Strict):
    type = fields.String(load_default=None)
    domain = fields.String(load_default=None)
    tenant = fields.String(load_default=None)


class JournalFilter(Strict):
    operation_id = fields.String(load_default=None)
    method = fields.String(load_default=None)
    path = fields.String(load_default=None)
    status = OneOrMany(fields.Integer(strict=True), load_default=None)
    verdict = fields.String(load_default=None)
    fault = fields.Boolean(load_default=None)
    tenant = fields.String(load_default=None)
    idempotency_key = fields.String(load_default=None)


class PaymentsFilter(Strict):
    tenant = fields.String(load_default=None)
    account = fields.String(load_default=None)
    boleto = fields.String(load_default=None)
    status = OneOrMany(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)), load_default=None)


class CredentialsFilter(Strict):
    tenant = fields.String(load_default=None)
    provider = fields.String(load_default=None)
    type = fields.String(load_default=None)
    version = fields.Integer(load_default=None, strict=True)


class CountedAssertion(Strict):
    count = Count(required=True)
    description = fields.String(load_default=None)


class EventsAssertion(CountedAssertion):
    events = fields.Nested(EventsFilter, required=True)


class JournalAssertion(CountedAssertion):
    journal = fields.Nested(JournalFilter, required=True)


class PaymentsAssertion(CountedAssertion):
    payments = fields.Nested(PaymentsFilter, required=True)


class CredentialsAssertion(CountedAssertion):
    credentials = fields.Nested(CredentialsFilter, required=True)


class ProbeAssertion(Strict):
    request = fields.Nested(RequestSchema, required=True)
    expect = fields.Nested(StepExpectSchema, required=True)
    description = fields.String(load_default=None)


ASSERTIONS: dict[str, type[Schema]] = {
    "events": EventsAssertion,
    "journal": JournalAssertion,
    "payments": PaymentsAssertion,
    "credentials": CredentialsAssertion,
    "request": ProbeAssertion,
}


class AssertionField(fields.Field):
    """One assertion: exactly one subject key (events, journal, payments, credentials, request)."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ValidationError("an assertion must be a mapping")
        subjects = [k for k in ASSERTIONS if k in value]
        if len(subjects) != 1:
            found = f" (found {', '.join(subjects)})" if subjects else ""
            raise ValidationError(f"an assertion names exactly one of: {', '.join(ASSERTIONS)}{found}")
        loaded = ASSERTIONS[subjects[0]]().load(value)
        return {"kind": subjects[0], **loaded}


# -- consumer drills (simulator.drills.consumer) --


class ConsumerFilterSchema(Strict):
    domain = fields.String(load_default=None)
    event_type = fields.String(load_default=None)
    tenant = fields.String(load_default=None)  # a setup tenant's name


class ConsumerRetrySchema(Strict):
    max_attempts = fields.Integer(load_default=None, strict=True, validate=validate.Range(1, 100))
    backoff_seconds = fields.Float(load_default=None, validate=validate.Range(0, 3600))
    backoff_factor = fields.Float(load_default=None, validate=validate.Range(1, 10))
    backoff_max_seconds = fields.Float(load_default=None, validate=validate.Range(0, 86400))
    timeout_seconds = fields.Float(load_default=None, validate=validate.Range(0.1, 300))


class ConsumerSchema(Strict):
    """The consumer under test: a command the runner starts (listening on ${consumer_port}), the
    subscription that pushes events to it, and a check of its own state."""

    command = Command(required=True)
    format = fields.String(load_default="pismo", validate=validate.OneOf(("pismo", "sns", "pubsub")))
    path = fields.String(load_default="/", validate=validate.Regexp(r"^/", error="must start with /"))
    filter = fields.Nested(ConsumerFilterSchema, load_default=None)
    retry = fields.Nested(ConsumerRetrySchema, load_default=None)
    check = Command(load_default=None)
    env = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")), values=Scalar(), load_default=dict
    )
    cwd = fields.String(load_default=None)
    ready_timeout_seconds = fields.Float(load_default=15.0, validate=validate.Range(min=0.1, max=600))
    timeout_seconds = fields.Float(load_default=60.0, validate=validate.Range(min=0.1, max=3600))


class DeliveryFaultField(fields.Field):
    """A delivery fault rule in the admin API's format (simulator.domains.deliveries.schemas);
    the runner limits it to the consumer's subscription."""

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> dict:
        from pismo_sandbox.domains.deliveries.schemas import load_rule as load_delivery_rule

        if not isinstance(value, dict):
            raise ValidationError("a delivery fault rule must be a mapping")
        load_delivery_rule(value)
        return value


class DeliveriesExpectSchema(Strict):
    all_acknowledged = fields.Boolean(load_default=True)
    max_attempts = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=1000))


class ExpectSchema(Strict):
    client_exit_code = ExitCode(load_default=0)
    invariants = fields.Nested(InvariantsSchema, load_default=lambda: InvariantsSchema().load({}))
    assertions = fields.List(AssertionField(), load_default=list)
    deliveries = fields.Nested(DeliveriesExpectSchema, load_default=None)


class ScenarioSchema(Strict):
    name = fields.String(required=True, validate=validate.Regexp(NAME))
    description = fields.String(required=True, validate=validate.Length(min=1))
    setup = fields.Nested(SetupSchema, required=True)
    faults = fields.List(FaultField(), load_default=list)
    steps = fields.List(fields.Nested(StepSchema), load_default=None, validate=validate.Length(min=1))
    client = fields.Nested(ClientSchema, load_default=None)
    advance = fields.List(fields.Nested(AdvanceSchema), load_default=list)
    expect = fields.Nested(ExpectSchema, load_default=lambda: ExpectSchema().load({}))
    settle_seconds = fields.Float(load_default=None, validate=validate.Range(min=0, max=120))
    consumer = fields.Nested(ConsumerSchema, load_default=None)
    delivery_faults = fields.List(DeliveryFaultField(), load_default=list)

    @validates_schema
    def one_driver(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("steps") is None) == (data.get("client") is None):
            raise ValidationError(
                "give either steps (the runner sends requests) or client (an external"
                " command is the client under test), not both and not neither"
            )
