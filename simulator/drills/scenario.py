"""Drill scenario files: read the YAML (keeping the line of every key), validate it with
marshmallow, check every ${reference}, and hand the runner a Scenario.

A mistake is reported as ``FILE:LINE:COLUMN: field.path: problem`` (with a "did you mean" for a
misspelt field), all mistakes of a file at once, before any sandbox is started. The format is
documented in scenarios/README.md.
"""

from __future__ import annotations

import difflib
import pathlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable, Iterable

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from pismo_sandbox.faults.rules import FaultRuleSchema, validate_rule

NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ACCOUNT_STATUSES = ("NORMAL", "BLOCKED", "CANCELLED", "PENDING", "CREATED")
PAYMENT_STATUSES = ("PROCESSING", "PAID", "SETTLED", "ERROR", "TIMEOUT", "CANCELLED")
PROVIDERS = ("BTG", "CELCOIN", "JDPI")
BANKSLIP_PROVIDERS = ("BTG", "CELCOIN", "ITAU", "JDPI")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PAY_OPERATION = "post-integrated-payments-api-v1-bankslips-pay"

# Names a ${reference} may start with (besides tenants., accounts., boletos., steps. and
# captured values). Documented in scenarios/README.md, "References".
BUILTINS = ("base_url", "python", "scenario_dir", "tenant_id", "account_id", "token",
            "server_key", "server_secret")
# What a consumer drill adds: the receiver's URL, port and scratch directory, and the signing
# secret of its subscription.
CONSUMER_BUILTINS = ("consumer_url", "consumer_port", "consumer_dir", "consumer_secret")
BOLETO_FIELDS = ("name", "kind", "type", "bar_code", "digitable_line", "amount", "due_date", "bank",
                 "segment", "free_field", "trigger", "fine", "interest", "discount")
REFERENCE = re.compile(r"\$\{([^${}]*)\}")
ESCAPED = "$${"

Path = tuple  # field path: str keys and int list indexes


# -- errors --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None          # 1-based
    column: int | None        # 1-based
    field: str                # "setup.tenants[0].accounts" ("" for the whole file)
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


class ScenarioError(ValueError):
    """A scenario file that cannot be run; str() lists every problem, one per line."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_path(path: Iterable) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- YAML with line numbers ------------------------------------------------------------------------

class _Marks:
    """Where each field path starts in the file (the key's position for mapping entries)."""

    def __init__(self):
        self.marks: dict[Path, tuple[int, int]] = {}
        self.duplicates: list[tuple[Path, tuple[int, int]]] = []

    def walk(self, node: yaml.Node, path: Path = ()) -> None:
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key in seen and key != "<<":
                    self.duplicates.append((path + (key,), where))
                seen.add(key)
                self.marks[path + (key,)] = where
                self.walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, path + (index,))

    def find(self, path: Path) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (None, None))


def _plain(value: Any) -> Any:
    """YAML timestamps and dates as the ISO strings the admin API takes."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {(str(k) if not isinstance(k, str) else k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_yaml(path: str, text: str | None = None) -> tuple[Any, _Marks]:
    """The document and the marks of its fields; ScenarioError for unreadable YAML."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8") if text is None else text
    except OSError as error:
        raise ScenarioError(path, [Problem(path, None, None, "", error.strerror or str(error))]) from None
    marks = _Marks()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (error.context, error.problem) if p) or str(error)
        raise ScenarioError(path, [Problem(path, line, column, "", f"not valid YAML: {problem}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError(path, [Problem(path, None, None, "", f"not valid YAML: {error}")]) from None
    if node is not None:
        marks.walk(node)
    return _plain(data), marks


# -- custom fields ---------------------------------------------------------------------------------

class OneOrMany(fields.Field):
    """A value or a list of values, each checked by ``inner``; always loads as a list."""

    def __init__(self, inner: fields.Field, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def _deserialize(self, value, attr, data, **kwargs):
        values = value if isinstance(value, list) else [value]
        if not values:
            raise ValidationError("must not be empty")
        return [self.inner.deserialize(v) for v in values]


class Count(fields.Field):
    """``3`` (exactly) or ``{min: 1, max: 5}`` (either bound optional)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be a number, or a mapping with min and/or max")
        if isinstance(value, int):
            if value < 0:
                raise ValidationError("must be 0 or more")
            return {"min": value, "max": value}
        if isinstance(value, dict):
            unknown = set(value) - {"min", "max"}
            if unknown or not value:
                raise ValidationError("a range has min and/or max only" +
                                      (f" (unknown: {', '.join(sorted(map(str, unknown)))})" if unknown else ""))
            for bound in value.values():
                if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
                    raise ValidationError("min and max must be whole numbers, 0 or more")
            if "min" in value and "max" in value and value["min"] > value["max"]:
                raise ValidationError("min must not exceed max")
            return {"min": value.get("min"), "max": value.get("max")}
        raise ValidationError("must be a number, or a mapping with min and/or max")


class Command(fields.Field):
    """A command line: a string (split like a shell would) or a list of arguments."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
            return [str(v) for v in value]
        raise ValidationError("must be a command line (a string) or a non-empty list of arguments")


class ExitCode(fields.Field):
    def _deserialize(self, value, attr, data, **kwargs):
        if value == "any":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
            raise ValidationError("must be an exit code (0-255) or 'any'")
        return value


class Scalar(fields.Field):
    """An environment value: strings, numbers and booleans as text; mappings and lists as JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            raise ValidationError("must not be null")
        return value


class Toggle(fields.Field):
    """An invariant's parameters: a mapping, ``{}``/null/true for the defaults, false to turn off."""

    def __init__(self, schema: type[Schema], **kwargs):
        super().__init__(**kwargs)
        self.schema = schema()

    def _deserialize(self, value, attr, data, **kwargs):
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

    def _deserialize(self, value, attr, data, **kwargs):
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
    def check(self, data, **_):
        if data.get("now") is not None:
            from pismo_sandbox.clock import parse_instant
            try:
                parse_instant(data["now"])
            except ValueError:
                raise ValidationError("must be an RFC 3339 date-time, e.g. 2025-06-02T13:00:00Z", "now")


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


def _bad_trigger(value: str):
    close = " or ".join(repr(c) for c in difflib.get_close_matches(value, _trigger_names(), n=2))
    raise ValidationError(f"not a trigger of the catalogue{f' (did you mean {close}?)' if close else ''};"
                          f" one of: {', '.join(_trigger_names())}")


class SetupSchema(Strict):
    clock = fields.Nested(ClockSchema, load_default=None)
    tenants = fields.List(fields.Nested(TenantSchema), required=True, validate=validate.Length(min=1))
    boletos = fields.List(fields.Nested(BoletoSchema), load_default=list)


class ClientSchema(Strict):
    command = Command(required=True)
    task = fields.String(load_default=None)
    env = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")),
                      values=Scalar(), load_default=dict)
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
    capture = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")),
                          values=fields.String(), load_default=dict)
    expect = fields.Nested(StepExpectSchema, load_default=None)


class AdvanceSchema(Strict):
    seconds = fields.Float(load_default=0, validate=validate.Range(min=0))
    minutes = fields.Float(load_default=0, validate=validate.Range(min=0))
    hours = fields.Float(load_default=0, validate=validate.Range(min=0))
    days = fields.Float(load_default=0, validate=validate.Range(min=0))

    @validates_schema
    def check(self, data, **_):
        if not any(data.get(k) for k in ("seconds", "minutes", "hours", "days")):
            raise ValidationError("give seconds, minutes, hours or days (more than 0)")


# -- invariants' parameters (simulator.drills.invariants) --

class NoSlipPaidTwiceSchema(Strict):
    ignore_statuses = fields.List(fields.String(validate=validate.OneOf(PAYMENT_STATUSES)),
                                  load_default=lambda: ["ERROR", "TIMEOUT", "CANCELLED"])


class RetriesReuseKeySchema(Strict):
    operations = fields.List(fields.String(), load_default=lambda: [PAY_OPERATION],
                             validate=validate.Length(min=1))


class PaymentsReachStatusSchema(Strict):
    status = fields.String(load_default="SETTLED", validate=validate.OneOf(PAYMENT_STATUSES))
    boletos = fields.Raw(load_default="all")  # "all", or a list of boleto names, or {name: status}

    @validates_schema
    def check(self, data, **_):
        boletos = data.get("boletos")
        if boletos == "all" or (isinstance(boletos, list) and all(isinstance(b, str) for b in boletos)):
            return
        if isinstance(boletos, dict) and all(s in PAYMENT_STATUSES for s in boletos.values()):
            return
        raise ValidationError("must be 'all', a list of boleto names, or a mapping of boleto name to"
                              f" status ({', '.join(PAYMENT_STATUSES)})", "boletos")


class RetriesBoundedSchema(Strict):
    max_attempts = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=1000))
    final_statuses = fields.List(fields.Integer(strict=True, validate=validate.Range(400, 499)),
                                 load_default=list)
    operations = fields.List(fields.String(), load_default=None)


class EmptySchema(Strict):
    pass


class InvariantsSchema(Strict):
    no_slip_paid_twice = Toggle(NoSlipPaidTwiceSchema, load_default=None)
    retries_reuse_idempotency_key = Toggle(RetriesReuseKeySchema, load_default=None)
    payments_reach_status = Toggle(PaymentsReachStatusSchema, load_default=None)
    retries_bounded = Toggle(RetriesBoundedSchema, load_default=None)
    faults_fired = Toggle(EmptySchema, load_default=lambda: {})
    contract_clean = Toggle(EmptySchema, load_default=lambda: {})


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
    "events": EventsAssertion, "journal": JournalAssertion, "payments": PaymentsAssertion,
    "credentials": CredentialsAssertion, "request": ProbeAssertion,
}


class AssertionField(fields.Field):
    """One assertion: exactly one subject key (events, journal, payments, credentials, request)."""

    def _deserialize(self, value, attr, data, **kwargs):
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
    tenant = fields.String(load_default=None)   # a setup tenant's name


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
    env = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]*$")),
                      values=Scalar(), load_default=dict)
    cwd = fields.String(load_default=None)
    ready_timeout_seconds = fields.Float(load_default=15.0, validate=validate.Range(min=0.1, max=600))
    timeout_seconds = fields.Float(load_default=60.0, validate=validate.Range(min=0.1, max=3600))


class DeliveryFaultField(fields.Field):
    """A delivery fault rule in the admin API's format (simulator.domains.deliveries.schemas);
    the runner limits it to the consumer's subscription."""

    def _deserialize(self, value, attr, data, **kwargs):
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
    def one_driver(self, data, **_):
        if (data.get("steps") is None) == (data.get("client") is None):
            raise ValidationError("give either steps (the runner sends requests) or client (an external"
                                  " command is the client under test), not both and not neither")


# -- the loaded scenario ---------------------------------------------------------------------------

@dataclass
class Scenario:
    path: str
    name: str
    description: str
    setup: dict
    faults: list[dict]              # {"rule": admin-API rule, "refs": {"tenant"?, "account"?}}
    steps: list[dict] | None
    client: dict | None
    advance: list[dict]
    expect: dict
    settle_seconds: float | None
    marks: _Marks = field(repr=False, default_factory=_Marks)
    consumer: dict | None = None            # the consumer under test (consumer drills)
    delivery_faults: list[dict] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return str(pathlib.Path(self.path).resolve().parent)

    def line_of(self, path: Path, exact: bool = False) -> int | None:
        """The line of a field (or of its nearest ancestor in the file, unless ``exact``)."""
        if exact:
            return self.marks.marks.get(tuple(path), (None, None))[0]
        return self.marks.find(path)[0]

    @property
    def tenants(self) -> list[dict]:
        return self.setup["tenants"]

    @property
    def accounts(self) -> list[tuple[dict, dict]]:
        """(tenant, account) pairs in setup order."""
        return [(t, a) for t in self.tenants for a in t["accounts"]]


def _normalise(data: dict) -> None:
    """Defaults that depend on position: tenant and account names, one account per tenant."""
    for i, tenant in enumerate(data["setup"]["tenants"]):
        tenant["name"] = tenant["name"] or f"tenant{i + 1}"
        if tenant["accounts"] is None:
            tenant["accounts"] = [{"name": None, "account_id": None, "status": "NORMAL"}]
        for j, account in enumerate(tenant["accounts"]):
            account["name"] = account["name"] or (tenant["name"] if j == 0 else f"{tenant['name']}-{j + 1}")


# -- references --------------------------------------------------------------------------------------

OPEN = object()  # any deeper path is accepted (a response body)


def references(value: Any) -> list[str]:
    """The ${...} references in a value (strings, mappings, lists)."""
    if isinstance(value, str):
        return REFERENCE.findall(value.replace(ESCAPED, ""))
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def resolve(context: dict, reference: str) -> Any:
    """The value a dotted reference names; KeyError naming the part that is missing."""
    current: Any = context
    parts = reference.strip().split(".")
    for i, part in enumerate(parts):
        if current is OPEN:
            return OPEN
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            known = sorted(current) if isinstance(current, dict) else []
            close = difflib.get_close_matches(part, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else (
                f" (known: {', '.join(known[:12])})" if known else "")
            where = ".".join(parts[:i]) or "the scenario"
            raise KeyError(f"${{{reference}}}: {where} has no {part!r}{hint}")
    return current


def interpolate(value: Any, context: dict) -> Any:
    """Replace ${...} references; a string that is exactly one reference keeps the value's type."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return resolve(context, whole.group(1))

        def text(match: re.Match) -> str:
            found = resolve(context, match.group(1))
            return "" if found is None else str(found)
        parts = value.split(ESCAPED)
        return "${".join(REFERENCE.sub(text, part) for part in parts)
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    return value


def static_context(data: dict) -> dict:
    """The shape of the runtime context (runner.Context.values), for checking references."""
    tenants = data["setup"]["tenants"]
    context: dict = {name: True for name in BUILTINS}
    context["tenants"] = {t["name"]: {"tenant_id": True, "server_key": True, "server_secret": True,
                                      "name": True}
                          for t in tenants}
    context["accounts"] = {a["name"]: {"account_id": True, "tenant_id": True, "token": True, "name": True,
                                       "status": True}
                           for t in tenants for a in t["accounts"]}
    context["boletos"] = {b["name"]: {f: True for f in BOLETO_FIELDS} for b in data["setup"]["boletos"]}
    return context


def _semantic_problems(data: dict) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []

    def unique(items: list[dict], path: Path, what: str, key: str = "name") -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item[key] in seen:
                problems.append((path + (i, key), f"{what} {item[key]!r} is already defined"
                                                  f" ({format_path(path + (seen[item[key]],))})"))
            seen.setdefault(item[key], i)

    setup = data["setup"]
    unique(setup["tenants"], ("setup", "tenants"), "tenant")
    all_accounts = [a for t in setup["tenants"] for a in t["accounts"]]
    seen_accounts: set[str] = set()
    for i, tenant in enumerate(setup["tenants"]):
        if not tenant["accounts"] and tenant["credentials"]:
            problems.append((("setup", "tenants", i, "credentials"),
                             "registering credentials needs an account token: give the tenant an account"))
        for j, account in enumerate(tenant["accounts"]):
            if account["name"] in seen_accounts:
                problems.append((("setup", "tenants", i, "accounts", j, "name"),
                                 f"account {account['name']!r} is already defined (account names are"
                                 " unique across tenants)"))
            seen_accounts.add(account["name"])
        names = {a["name"] for a in tenant["accounts"]}
        for k, credential in enumerate(tenant["credentials"]):
            if credential["account"] is not None and credential["account"] not in names:
                problems.append((("setup", "tenants", i, "credentials", k, "account"),
                                 f"no account {credential['account']!r} in tenant {tenant['name']!r}"))
    if not all_accounts:
        problems.append((("setup", "tenants"), "the drill needs at least one account (the client's)"))
    unique(setup["boletos"], ("setup", "boletos"), "boleto")

    tenant_names = {t["name"] for t in setup["tenants"]}
    for i, fault in enumerate(data["faults"]):
        for key, known in (("tenant", tenant_names), ("account", seen_accounts)):
            ref = fault["refs"].get(key)
            if ref is not None and ref not in known:
                close = difflib.get_close_matches(ref, sorted(known), n=1)
                problems.append((("faults", i, "match", key), f"no {key} named {ref!r} in setup"
                                 + (f" (did you mean {close[0]!r}?)" if close else "")))

    context = static_context(data)

    def check(value: Any, path: Path, ctx: dict) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                check(v, path + (k,), ctx)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check(v, path + (i,), ctx)
        else:
            for ref in references(value):
                try:
                    resolve(ctx, ref)
                except KeyError as error:
                    problems.append((path, error.args[0]))

    consumer = data.get("consumer")
    if consumer is not None:
        context.update({name: True for name in CONSUMER_BUILTINS})
        for part in ("command", "check", "env", "cwd"):
            if consumer[part]:
                check(consumer[part], ("consumer", part), context)
        tenant = (consumer["filter"] or {}).get("tenant")
        if tenant is not None and tenant not in tenant_names:
            problems.append((("consumer", "filter", "tenant"), f"no tenant named {tenant!r} in setup"))
    elif data.get("delivery_faults"):
        problems.append((("delivery_faults",), "delivery faults need a consumer (the events' receiver)"))
    elif data["expect"].get("deliveries") is not None:
        problems.append((("expect", "deliveries"), "delivery expectations need a consumer"))
    if data["client"] is not None:
        check(data["client"]["command"], ("client", "command"), context)
        check(data["client"]["env"], ("client", "env"), context)
        if data["client"]["cwd"]:
            check(data["client"]["cwd"], ("client", "cwd"), context)
    if data["steps"] is not None:
        unique(data["steps"], ("steps",), "step")
        context["steps"] = {}
        for i, step in enumerate(data["steps"]):
            auth = step["auth"]
            if auth not in (None, "none") and auth not in seen_accounts:
                problems.append((("steps", i, "auth"), f"auth must be none or an account name"
                                 f" ({', '.join(sorted(seen_accounts))})"))
            for part in ("path", "headers", "query", "json", "expect"):
                check(step[part], ("steps", i, part), context)
            context["steps"][step["name"]] = {"status": True, "body": OPEN, "headers": OPEN}
            for name in step["capture"]:
                if name in context:
                    problems.append((("steps", i, "capture", name),
                                     f"{name!r} is already a name in the scenario; choose another"))
                context[name] = OPEN
            for name, where in step["capture"].items():
                if where.split(".")[0] not in ("body", "headers", "status"):
                    problems.append((("steps", i, "capture", name),
                                     "must start with body, headers or status (e.g. body.authorization_id)"))
    for i, assertion in enumerate(data["expect"]["assertions"]):
        if assertion["kind"] == "request":
            check(assertion["request"], ("expect", "assertions", i, "request"), context)
            check(assertion["expect"], ("expect", "assertions", i, "expect"), context)
            auth = assertion["request"]["auth"]
            if auth not in (None, "none") and auth not in seen_accounts:
                problems.append((("expect", "assertions", i, "request", "auth"),
                                 "auth must be none or an account name"))
        for key, known, label in (("tenant", tenant_names, "tenant"), ("account", seen_accounts, "account"),
                                  ("boleto", {b["name"] for b in setup["boletos"]}, "boleto")):
            subject = assertion.get(assertion["kind"])
            ref = subject.get(key) if isinstance(subject, dict) else None
            if ref is not None and ref not in known:
                problems.append((("expect", "assertions", i, assertion["kind"], key),
                                 f"no {label} named {ref!r} in setup"))
    invariants = data["expect"]["invariants"]
    reach = invariants.get("payments_reach_status")
    if reach is not None and reach["boletos"] != "all":
        known = {b["name"] for b in setup["boletos"]}
        for name in reach["boletos"]:
            if name not in known:
                problems.append((("expect", "invariants", "payments_reach_status", "boletos"),
                                 f"no boleto named {name!r} in setup"))
    return problems


# -- marshmallow errors -> problems -------------------------------------------------------------------

def _flatten(messages: Any, path: Path = ()) -> list[tuple[Path, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out += _flatten(value, path if key == "_schema" else path + (key,))
        return out
    if isinstance(messages, list):
        out = []
        for item in messages:
            out += _flatten(item, path) if isinstance(item, (dict, list)) else [(path, str(item))]
        return out
    return [(path, str(messages))]


def _schema_at(path: Path) -> Schema | None:
    """The schema whose fields live at ``path`` (for "did you mean" on unknown fields)."""
    schema: Any = ScenarioSchema()
    parts = list(path)
    while parts:
        part = parts.pop(0)
        if isinstance(part, int):
            continue
        if not isinstance(schema, Schema) or part not in schema.fields:
            return None
        current = schema.fields[part]
        if isinstance(current, fields.List):
            current = current.inner
        if isinstance(current, fields.Nested):
            schema = current.schema
        elif isinstance(current, Toggle):
            schema = current.schema
        elif isinstance(current, FaultField):
            schema = current.schema
        else:
            return None
    return schema if isinstance(schema, Schema) else None


def _message(path: Path, text: str) -> str:
    if text == "Unknown field." and path:
        known = sorted(_schema_at(path[:-1]).fields) if _schema_at(path[:-1]) else []
        if path[-2:-1] == ("match",):
            known += list(FaultField.sugar)
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        if close:
            return f"unknown field (did you mean {close[0]!r}?)"
        return f"unknown field; known: {', '.join(known)}" if known else "unknown field"
    if text == "Missing data for required field.":
        return "required field is missing"
    return text


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def load_scenario(path: str, text: str | None = None) -> Scenario:
    """Read and check a scenario file; ScenarioError lists every problem with file and line."""
    path = str(path)
    data, marks = read_yaml(path, text)
    problems: list[Problem] = []

    def add(field_path: Path, message: str) -> None:
        line, column = marks.find(field_path)
        problems.append(Problem(path, line, column, format_path(field_path), message))

    for dup_path, (line, column) in marks.duplicates:
        problems.append(Problem(path, line, column, format_path(dup_path), "duplicate key (YAML keeps only the last)"))
    if not isinstance(data, dict):
        add((), "a scenario is a mapping (name, description, setup, faults, steps or client, advance, expect)")
        raise ScenarioError(path, problems)
    try:
        loaded = ScenarioSchema().load(data)
    except ValidationError as error:
        for field_path, text in _flatten(error.messages):
            add(field_path, _message(field_path, text))
        raise ScenarioError(path, _by_line(problems)) from None
    _normalise(loaded)
    for field_path, message in _semantic_problems(loaded):
        add(field_path, message)
    if problems:
        raise ScenarioError(path, _by_line(problems))
    return Scenario(path=path, name=loaded["name"], description=loaded["description"].strip(),
                    setup=loaded["setup"], faults=loaded["faults"], steps=loaded["steps"],
                    client=loaded["client"], advance=loaded["advance"], expect=loaded["expect"],
                    settle_seconds=loaded["settle_seconds"], marks=marks,
                    consumer=loaded["consumer"], delivery_faults=loaded["delivery_faults"])


def load_scenarios(paths: Iterable[str], loader: Callable[[str], Scenario] = load_scenario) -> list[Scenario]:
    """Every scenario, or one ScenarioError holding the problems of every bad file."""
    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(loader(path))
        except ScenarioError as error:
            problems += error.problems
    if problems:
        raise ScenarioError(", ".join(sorted({p.file for p in problems})), problems)
    names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in names and names[scenario.name] != scenario.path:
            line = scenario.marks.find(("name",))
            raise ScenarioError(scenario.path, [Problem(
                scenario.path, line[0], line[1], "name",
                f"drill name {scenario.name!r} is also used by {names[scenario.name]}")])
        names[scenario.name] = scenario.path
    return scenarios
