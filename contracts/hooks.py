"""Schemathesis hooks and custom checks of the contract harness (contracts/harness.py).

One module, shared by `pismo-sandbox contract` and the test suite, so that both run exactly the
same checks on exactly the same data.

Custom checks (registered with ``@schemathesis.check``; they run next to Schemathesis' own):

- ``response_has_x_cid``: every response carries a non-empty ``x-cid`` header (Pismo's gateway
  attaches one to every answer; the sandbox's gateway must too).
- ``documented_error_envelope``: a 4xx/5xx body is the documented envelope ``{code, message,
  details?}`` (strings, nothing else), and its ``code`` is one the operation documents for that
  status: an example key or example ``code`` under that response, or an ``x-sandbox-errors``
  entry (overlay or sandbox-authored document) with that status.
- ``idempotent_replay_returns_same_body``: an operation that takes ``x-idempotency-key``
  (Pay bank slip), answered 2xx, is sent again unchanged; the replay must answer the same status
  and the same body.

Checks that judge an answer against what the target was told before (an idempotency key bound
to its request, a bank account read back as sent, ...) live in ``stateful_checks.py``; they run
once per run, after Schemathesis.

State preparation (a ``before_call`` hook): Pismo operations need state that random data cannot
conjure (an existing NORMAL account, a real ISPB, a boleto with valid check digits, a validate
before a pay). Just before a request goes out, the preparer of its operation fills in exactly
those values, in the parts of the case generated as *valid* (positive mode); parts generated
invalid are sent as generated. Each preparer says why it exists; the list is in contracts/README.md
("What the harness steers, and why"). Preparers repair, they do not overwrite: a value that
already satisfies the rule (for instance one an OpenAPI link carried over from the previous
response in the stateful phase) is kept.
"""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

# -- run state ---------------------------------------------------------------------------------


@dataclass
class RunState:
    """What one harness run prepared on its target, reachable from every case of its schemas.

    ``call(method, path, json)`` sends a request to the target with the run's account token
    (used to validate a slip before paying it); ``boleto(amount, kind)`` returns a fresh valid
    slip (``{"bar_code", "digitable_line", "amount", ...}``).
    """

    account_id: int | None = None
    tenant_id: str | None = None
    call: Callable[..., tuple[int, dict]] | None = None
    boleto: Callable[[Decimal, str], dict] | None = None
    seed: int = 0
    # bar code -> the body Validate bank slip answered for it (this run's account)
    validations: dict = field(default_factory=dict)
    # resource path -> "created" / "deleted": the last successful write (see RECREATES)
    writes: dict = field(default_factory=dict)
    forgiven: int = 0  # use_after_free failures dropped because the resource was created again
    _counter: Any = field(default_factory=itertools.count)
    _prepared: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_int(self) -> int:
        with self._lock:
            return next(self._counter)

    def unique(self, prefix: str) -> str:
        """A reproducible unique value (seed + a counter): idempotency keys, external ids."""
        with self._lock:
            n = next(self._counter)
        return str(uuid.UUID(int=(self.seed << 64 | n) & (2**128 - 1), version=4)) if prefix == "uuid" \
            else f"{prefix}-{self.seed}-{n}"


# Run states by run id; a document under test names its run in ``x-pismo-harness-run`` (the
# raw document travels with every clone Schemathesis makes of a schema).
_STATES: dict[str, RunState] = {}
RUN_KEY = "x-pismo-harness-run"


def bind(schema, state: RunState) -> None:
    """Make ``state`` the run state of every case generated from ``schema``."""
    run_id = schema.raw_schema.setdefault(RUN_KEY, uuid.uuid4().hex)
    _STATES[run_id] = state


def unbind(schema) -> None:
    _STATES.pop(schema.raw_schema.get(RUN_KEY, ""), None)


def state_for(case) -> RunState | None:
    return _STATES.get(case.operation.schema.raw_schema.get(RUN_KEY, ""))


# -- preparers ---------------------------------------------------------------------------------
#
# operationId -> function(case, state). Each one states the business rule it satisfies, so a
# reader can tell "valid for the schema, meaningful for the API" apart from a weakened check.

PREPARERS: dict[str, Callable] = {}


def preparer(*operation_ids: str):
    def register(func):
        for operation_id in operation_ids:
            PREPARERS[operation_id] = func
        return func
    return register


@preparer("post-credentials")
def _credential(case, state: RunState) -> None:
    """BTG with a client_id (a real BTG configuration has one; the sandbox needs none, ERRATA
    S-10); never a documented trigger key (``sandbox-...``). Every provider/type pair of the
    enums is supported (ERRATA S-11)."""
    body = case.body
    if not isinstance(body, dict) or not positive(case, "body"):
        return
    if body.get("provider") == "BTG":
        data = body.get("provider_data")
        if not isinstance(data, dict):
            data = body["provider_data"] = {}
        if not isinstance(data.get("client_id"), str) or not data["client_id"]:
            data["client_id"] = state.unique("client")
    key = body.get("key")
    if isinstance(key, str) and key.strip().lower().startswith("sandbox-"):
        body["key"] = "k" + key


# A handful of real ISPBs (Banco do Brasil, Itau Unibanco, Bradesco, Caixa, Nubank): Pismo, and
# the sandbox with PISMO_SANDBOX_STRICT_ISPB=true, refuse a bank that does not exist.
_REAL_ISPBS = ("00000000", "60701190", "60746948", "00360305", "18236120")


def _digits(text: str, width: int, *, no_leading_zero: bool = False) -> str:
    """A digit string derived from ``text`` (same length, capped at ``width``; reproducible)."""
    out = "".join(ch if ch.isdigit() and ch.isascii() else str(ord(ch) % 10) for ch in text[:width]) or "1"
    return ("1" + out[1:]) if no_leading_zero and out.startswith("0") else out


# Account numbers the sandbox reserves as documented triggers (README, "Trigger catalogue"):
# each answers the documented upstream failure (5xx) on purpose.
_TRIGGER_PREFIX = "999999999"


@preparer("post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil")
def _register_bank_account(case, state: RunState) -> None:
    """The run's own NORMAL account in the path (another id is someone else's account: 403 or
    404); the scheme rules seed 002 states in prose, not in its schema: a real ISPB, a branch of
    1-4 digits, an account number of 1-13 digits without a leading zero; never a documented
    trigger account number."""
    _own_account_path(case, state)
    scheme = case.body.get("scheme") if isinstance(case.body, dict) and positive(case, "body") else None
    if not isinstance(scheme, dict):
        return
    bank = scheme.get("bank")
    if isinstance(bank, str) and bank not in _REAL_ISPBS:
        scheme["bank"] = _REAL_ISPBS[sum(map(ord, bank)) % len(_REAL_ISPBS)]
    branch = scheme.get("branch")
    if isinstance(branch, str):
        scheme["branch"] = _digits(branch, 4)
    number = scheme.get("account_number")
    if isinstance(number, str):
        number = _digits(number, 13, no_leading_zero=True)
        if number.startswith(_TRIGGER_PREFIX):
            number = "1" + number[len(_TRIGGER_PREFIX):]
        scheme["account_number"] = number


@preparer("get-intl-bank-accounts-v2-bank-accounts-account-id-bank-accounts-scheme-name",
          "delete-intl-bank-accounts-v2-accounts-account-id-bank-accounts-scheme-name")
def _own_account_path(case, state: RunState) -> None:
    """The run's own account in the path: any other id is not this token's account."""
    if state.account_id is not None and "accountId" in (case.path_parameters or {}) \
            and positive(case, "path"):
        case.path_parameters["accountId"] = str(state.account_id)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@preparer("sandbox-create-fault")
def _fault_rule(case, state: RunState) -> None:
    """The action rules sandbox-admin.yaml states in prose (the schema cannot: they depend on
    ``type``): status only with a status action, which needs one; a timeout needs ms; a delay
    needs the parameters of its distribution, with min_ms <= max_ms; match.operation_id names
    a bundled operation (sandbox-admin.yaml: a rule that could never fire is refused)."""
    match = case.body.get("match") if isinstance(case.body, dict) and positive(case, "body") else None
    if isinstance(match, dict) and isinstance(match.get("operation_id"), str):
        from pismo_sandbox.faults.rules import known_operations

        if match["operation_id"] not in known_operations():
            match["operation_id"] = min(known_operations())
    action = case.body.get("action") if isinstance(case.body, dict) and positive(case, "body") else None
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        return
    kind = action["type"]
    if kind == "status":
        action.setdefault("status", 503)
    else:
        action.pop("status", None)
        action.pop("body", None)
    if kind == "timeout":
        action.setdefault("ms", 0)
    if kind == "delay":
        distribution = action.get("distribution", "fixed")
        needs = {"fixed": {"ms": 0}, "uniform": {"min_ms": 0, "max_ms": 0},
                 "lognormal": {"median_ms": 0.0, "sigma": 0.0, "cap_ms": 0}}.get(distribution, {})
        for name, default in needs.items():
            action.setdefault(name, default)
        if distribution == "uniform" and _number(action.get("min_ms")) and _number(action.get("max_ms")) \
                and action["min_ms"] > action["max_ms"]:
            action["min_ms"], action["max_ms"] = action["max_ms"], action["min_ms"]


@preparer("sandbox-create-subscription")
def _subscription(case, state: RunState) -> None:
    """What sandbox-admin-deliveries.yaml states in prose: the url's host must be one the
    sandbox delivers to (PISMO_SANDBOX_DELIVERY_HOSTS, loopback by default). The port is the discard port: a served target's attempts are refused, on loopback."""
    from urllib.parse import urlsplit

    body = case.body if isinstance(case.body, dict) and positive(case, "body") else None
    if body is None:
        return
    url = body.get("url")
    try:
        ok = isinstance(url, str) and urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1") \
            and urlsplit(url).port is not None
    except ValueError:
        ok = False
    if not ok:
        body["url"] = "http://127.0.0.1:9/events"


_DELIVERY_PARAMETERS = {"duplicate": {"copies"}, "drop": set(), "reorder": {"window", "hold_ms"},
                        "delay": {"ms", "min_ms", "max_ms", "median_ms", "sigma", "cap_ms", "distribution"}}


@preparer("sandbox-create-delivery-fault")
def _delivery_fault_rule(case, state: RunState) -> None:
    """The action rules sandbox-admin-deliveries.yaml states in prose (they depend on ``type``):
    each action takes only its own parameters; a reorder needs a window; a delay needs the
    parameters of its distribution, with min_ms <= max_ms."""
    action = case.body.get("action") if isinstance(case.body, dict) and positive(case, "body") else None
    if not isinstance(action, dict) or action.get("type") not in _DELIVERY_PARAMETERS:
        return
    kind = action["type"]
    for name in list(action):
        if name != "type" and name not in _DELIVERY_PARAMETERS[kind]:
            del action[name]
    if kind == "reorder":
        action.setdefault("window", 2)
    if kind == "delay":
        distribution = action.get("distribution", "fixed")
        needs = {"fixed": {"ms": 0}, "uniform": {"min_ms": 0, "max_ms": 0},
                 "lognormal": {"median_ms": 0.0, "sigma": 0.0, "cap_ms": 0}}.get(distribution, {})
        for name, default in needs.items():
            action.setdefault(name, default)
        if distribution == "uniform" and _number(action.get("min_ms")) and _number(action.get("max_ms")) \
                and action["min_ms"] > action["max_ms"]:
            action["min_ms"], action["max_ms"] = action["max_ms"], action["min_ms"]


# -- bank slips --------------------------------------------------------------------------------

VALIDATE_PATH = "/integrated-payments/v1/bankslips/validate"
VALIDATE_ID = "post-integrated-payments-api-v1-bankslips-validate"
PAY_ID = "post-integrated-payments-api-v1-bankslips-pay"
_KINDS = {1: "bank", 2: "dealership"}


def _slip(text: Any, kind_type: Any, field: str):
    """The decoded slip if ``text`` is a valid bar code / digitable line of that type, else None."""
    from datetime import date

    from pismo_sandbox.domains.bankslips import boleto

    if not isinstance(text, str) or kind_type not in _KINDS:
        return None
    parse = boleto.parse_bar_code if field == "bar_code" else boleto.parse_digitable_line
    try:
        slip = parse(text, today=date.today(), field=field)
    except (ValueError, boleto.InvalidSlip):
        return None
    return slip if slip.kind == _KINDS[kind_type] else None


def _amount(state: RunState) -> Decimal:
    """A reproducible amount in whole reais (cents ,91-,93 pick failure lifecycles: avoided)."""
    return Decimal(10 + state.next_int() % 4990)


def _validated(state: RunState, type_: int, bar_code: str | None = None) -> dict | None:
    """The validation of ``bar_code`` (or of a fresh slip): Validate bank slip is called now,
    as a client would, unless this run already validated that slip."""
    if bar_code and bar_code in state.validations:
        return state.validations[bar_code]
    if state.call is None or state.boleto is None:
        return None
    if not bar_code:
        bar_code = state.boleto(_amount(state), _KINDS[type_])["bar_code"]
    status, body = state.call("POST", VALIDATE_PATH, {"type": type_, "bar_code": bar_code})
    if status == 200 and isinstance(body, dict):
        state.validations[body.get("bar_code", bar_code)] = body
        return body
    return None


@preparer(VALIDATE_ID)
def _validate_slip(case, state: RunState) -> None:
    """Exactly one of bar_code / digitable_line (the operation's documented rule), naming a slip
    whose check digits are right and whose kind agrees with ``type``."""
    body = case.body
    if not isinstance(body, dict) or not positive(case, "body") or body.get("type") not in _KINDS:
        return
    given = [name for name in ("bar_code", "digitable_line") if name in body]
    if len(given) == 1 and _slip(body[given[0]], body["type"], given[0]) is not None:
        return
    field_name = given[0] if given else "bar_code"
    if state.boleto is None:
        return
    slip = state.boleto(_amount(state), _KINDS[body["type"]])
    for name in ("bar_code", "digitable_line"):
        body.pop(name, None)
    body[field_name] = slip[field_name]


@preparer(PAY_ID)
def _pay_slip(case, state: RunState) -> None:
    """Pay names the run's account, a slip this account validated (a fresh one is validated
    now unless the case already carries one, e.g. from the validate -> pay link), the amount and
    external_authorization that validation returned, and BRL. The idempotency key is fresh per
    case (a generated key reused with another body is, rightly, a 409)."""
    body = case.body
    if isinstance(case.headers, dict) and positive(case, "header") \
            and any(k.lower() == "x-idempotency-key" for k in case.headers):
        for name in [k for k in case.headers if k.lower() == "x-idempotency-key"]:
            case.headers[name] = state.unique("uuid")
    if not isinstance(body, dict) or not positive(case, "body"):
        return
    if state.account_id is not None:
        body["account_id"] = state.account_id
    slip_ref = body.get("bankslip")
    if not isinstance(slip_ref, dict) or slip_ref.get("type") not in _KINDS:
        slip_ref = body["bankslip"] = {"type": 1}
    known = None
    for name in ("bar_code", "digitable_line"):
        slip = _slip(slip_ref.get(name), slip_ref["type"], name)
        if slip is not None and slip.bar_code in state.validations:
            known = slip.bar_code
    validation = _validated(state, slip_ref["type"], known)
    if validation is None:
        return
    slip_ref["bar_code"] = validation["bar_code"]
    if "digitable_line" in slip_ref:
        slip_ref["digitable_line"] = validation["digitable_line"]
    if "original_amount" in slip_ref:
        if validation.get("original_amount") is None:
            slip_ref.pop("original_amount")
        else:
            slip_ref["original_amount"] = validation["original_amount"]
    if validation.get("amount") is not None:
        body["amount"] = validation["amount"]
    elif not isinstance(body.get("amount"), (int, float)) or body["amount"] <= 0:
        body["amount"] = float(_amount(state))
    else:
        body["amount"] = round(float(body["amount"]), 2) or 1.0
    if "currency_code" in body:
        body["currency_code"] = "BRL"
    if validation.get("external_authorization") is not None:
        body["external_authorization"] = validation["external_authorization"]
    else:
        body.pop("external_authorization", None)


@preparer("get-integrated-payments-api-v1-bankslips-receipts")
def _receipts_query(case, state: RunState) -> None:
    """A window that is not inverted (beginDatetime <= endDatetime) and a paging cursor that is
    one (a previous page's last_evaluated_payment_datetime, or an RFC 3339 instant)."""
    from pismo_sandbox.clock import parse_instant

    query = case.query
    if not isinstance(query, dict) or not positive(case, "query"):
        return

    def instant(value):
        try:
            return parse_instant(str(value))
        except ValueError:
            return None

    begin, end = query.get("beginDatetime"), query.get("endDatetime")
    if begin is not None and end is not None and instant(begin) and instant(end) \
            and instant(begin) > instant(end):
        query["beginDatetime"], query["endDatetime"] = end, begin
    cursor = query.get("lastEvaluatedPaymentDatetimeQuery")
    if cursor is not None:
        moment, _, last = str(cursor).partition("~")
        if instant(moment) is None or (last and not last.isdigit()):
            query.pop("lastEvaluatedPaymentDatetimeQuery")


@preparer("sandbox-generate-boleto")
def _boleto_request(case, state: RunState) -> None:
    """The generator's rules the schema states in prose: trigger or free_field, not both; money
    with at most 2 decimals; charges only on a slip with an amount, and a discount that leaves
    something to pay; bank slips take bank/due_date (within the FEBRABAN factor window), dealership
    slips a segment."""
    body = case.body
    if not isinstance(body, dict) or not positive(case, "body") or body.get("kind") not in ("bank", "dealership"):
        return
    if body.get("trigger") and body.get("free_field"):
        body.pop("free_field")
    for name in ("amount", "fine", "interest", "discount"):
        if isinstance(body.get(name), (int, float)) and not isinstance(body.get(name), bool):
            body[name] = round(float(body[name]), 2)
    charges = [name for name in ("fine", "interest", "discount") if name in body]
    if charges and not body.get("amount"):
        for name in charges:
            body.pop(name)
    elif "discount" in body and body["amount"] + body.get("fine", 0) + body.get("interest", 0) \
            - body["discount"] <= 0:
        body.pop("discount")
    if body["kind"] == "bank":
        body.pop("segment", None)
        due = body.get("due_date")
        if isinstance(due, str) and not "2000-07-03" <= due <= "2100-12-31":
            body.pop("due_date")
    else:
        body.pop("bank", None)
        body.pop("due_date", None)


# -- re-creations Schemathesis cannot see -------------------------------------------------------
#
# use_after_free forgives a read after a DELETE when a POST on a *parent* path succeeded in between
# (the resource was created again). Register bank account creates again what Delete bank account
# removed (ERRATA S-01: a removed bank account can be registered again), but its path
# (.../bank-accounts/brazil) is not a parent of the resource (.../bank-accounts/{schemeName}).
# Creating operation -> the resource path a success (re)creates.
RECREATES: dict[str, Callable] = {
    "post-intl-bank-accounts-v2-accounts-account-id-bank-accounts-brazil":
        lambda case: case.formatted_path.rsplit("/", 1)[0] + "/BRAZIL",
}


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure, except a use_after_free on a resource that the last successful write
    to it created again (a RECREATES operation, after the DELETE): that read is right to succeed."""
    if type(failure).__name__ != "UseAfterFree":
        return True
    state = state_for(case)
    if state is None or state.writes.get(case.formatted_path) != "created":
        return True
    with state._lock:
        state.forgiven += 1
    return False


@schemathesis.hook
def after_call(context, case, response) -> None:
    """Remember what later requests depend on: each slip Validate bank slip accepted for the
    run's account (Pay needs it; a payment uses it up), and the last successful write to each
    resource a RECREATES operation creates."""
    state = state_for(case)
    if state is None or not 200 <= response.status_code < 300:
        return
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id in RECREATES:
        state.writes[RECREATES[operation_id](case)] = "created"
    elif case.method.upper() == "DELETE":
        state.writes[case.formatted_path] = "deleted"
    if operation_id not in (VALIDATE_ID, PAY_ID):
        return
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return
    if not isinstance(body, dict) or not isinstance(body.get("bar_code"), str):
        return
    if operation_id == VALIDATE_ID:
        state.validations[body["bar_code"]] = body
    else:  # a payment uses its validation up
        state.validations.pop(body["bar_code"], None)


# -- the hook ----------------------------------------------------------------------------------


def positive(case, location: str) -> bool:
    """Whether this part of the case ("body", "path", "query", "header") was generated valid.
    Preparers only touch valid parts: a deliberately invalid part stays as generated."""
    meta = case.meta
    if meta is None:
        return True
    for where, info in meta.components.items():
        if str(getattr(where, "value", where)).lower() == location:
            return info.mode == GenerationMode.POSITIVE
    return meta.generation.mode == GenerationMode.POSITIVE


def _canonical_integers(case) -> None:
    """ERRATA E-15: a valid integer parameter is sent as clients write it ("47009", never the
    "47009.0" JSON Schema would also call an integer); the simulator refuses the latter."""
    for attribute, location in (("query", "query"), ("path_parameters", "path")):
        values = getattr(case, attribute, None)
        if values and positive(case, location):
            for name, value in list(values.items()):
                if isinstance(value, float) and value.is_integer():
                    values[name] = int(value)


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Prepare a positive case's state just before it is sent (once per case: a replay made by
    a check sends the case exactly as it was)."""
    state = state_for(case)
    if state is None:
        return
    key = case.id  # ids are unique per case; a replay or retry of the same case keeps its id
    with state._lock:
        if key in state._prepared:
            return
        state._prepared.add(key)
    _canonical_integers(case)
    _json_post(case)
    prepare = PREPARERS.get(case.operation.definition.raw.get("operationId", ""))
    if prepare is None or case.method.upper() != case.operation.method.upper():
        return
    prepare(case, state)


def _json_post(case) -> None:
    """A POST without a body still says ``Content-Type: application/json``, as the sandbox
    requires of every POST (docs/security.md: a browser sends other POSTs cross-site without
    asking); a case that names a content type of its own is sent as it is."""
    headers = case.headers or {}
    if case.method.upper() == "POST" and case.body is NOT_SET \
            and not any(name.lower() == "content-type" for name in headers):
        case.headers = {**headers, "Content-Type": "application/json"}


# -- custom checks -----------------------------------------------------------------------------


def _header(response, name: str) -> str | None:
    values = response.headers.get(name.lower()) or response.headers.get(name)
    if isinstance(values, list):
        return values[0] if values else None
    return values


@schemathesis.check
def response_has_x_cid(ctx, response, case) -> None:
    """Every response carries a non-empty x-cid (Pismo's tracking id)."""
    if not (_header(response, "x-cid") or "").strip():
        raise AssertionError(f"{case.method} {case.formatted_path} answered {response.status_code} "
                             "without an x-cid header")


def _resolve(document: dict, node: Any) -> Any:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node, seen = target, seen + 1
    return node


def documented_codes(document: dict, operation: dict, status: int) -> set[str]:
    """Codes an operation documents for a status: response examples (key and ``code``) and
    ``x-sandbox-errors`` entries (the harness copies document-level entries into operations)."""
    codes: set[str] = set()
    response = _resolve(document, (operation.get("responses") or {}).get(str(status)) or {})
    for media in (response.get("content") or {}).values():
        for key, example in (media.get("examples") or {}).items():
            codes.add(key)
            value = _resolve(document, example).get("value") if isinstance(example, dict) else None
            if isinstance(value, dict) and isinstance(value.get("code"), str):
                codes.add(value["code"])
        example = media.get("example")
        if isinstance(example, dict) and isinstance(example.get("code"), str):
            codes.add(example["code"])
    errors = {**(document.get("x-sandbox-errors") or {}), **(operation.get("x-sandbox-errors") or {})}
    for entry in _error_entries(errors):
        if int(entry.get("status", 0)) == status and isinstance(entry.get("code"), str):
            codes.add(entry["code"])
    return codes


def _error_entries(errors: dict):
    for value in errors.values():
        if isinstance(value, dict) and "code" in value:
            yield value
        elif isinstance(value, dict):  # nested maps, e.g. missing_header: {name: entry}
            yield from (v for v in value.values() if isinstance(v, dict) and "code" in v)


ENVELOPE_KEYS = {"code", "message", "details"}


@schemathesis.check
def documented_error_envelope(ctx, response, case) -> None:
    """A 4xx/5xx body is {code, message, details?} and its code is documented for the operation
    and status. Statuses the operation does not declare are status_code_conformance's to report;
    probes with another method (unsupported_method) are not the operation's answers."""
    status = response.status_code
    if status < 400 or case.method.upper() != case.operation.method.upper():
        return
    operation = case.operation.definition.raw
    if str(status) not in (operation.get("responses") or {}):
        return
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        raise AssertionError(f"{status} body is not JSON: {response.content[:120]!r}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} body is not an object: {body!r:.120}")
    extra = set(body) - ENVELOPE_KEYS
    wrong = [k for k in ENVELOPE_KEYS if k in body and not isinstance(body[k], str)]
    missing = [k for k in ("code", "message") if k not in body]
    if extra or wrong or missing:
        raise AssertionError(
            f"{status} body is not the documented envelope {{code, message, details?}}: "
            + "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                      wrong and f"not strings: {', '.join(sorted(wrong))}",
                                      extra and f"unexpected fields: {', '.join(sorted(extra))}"])))
    codes = documented_codes(case.operation.schema.raw_schema, operation, status)
    if codes and body["code"] not in codes:
        raise AssertionError(
            f"{status} code {body['code']!r} is not documented for {case.operation.label} "
            f"{status} (documented: {', '.join(sorted(codes))})")


def _takes_idempotency_key(operation: dict, document: dict) -> bool:
    for parameter in operation.get("parameters") or []:
        parameter = _resolve(document, parameter)
        if parameter.get("in") == "header" and str(parameter.get("name", "")).lower() == "x-idempotency-key":
            return True
    return False


@schemathesis.check
def idempotent_replay_returns_same_body(ctx, response, case) -> None:
    """Replaying an accepted idempotent request (same key, same body) answers the same."""
    if not 200 <= response.status_code < 300:
        return
    if not _takes_idempotency_key(case.operation.definition.raw, case.operation.schema.raw_schema):
        return
    headers = {k.lower(): v for k, v in (case.headers or {}).items()}
    if not headers.get("x-idempotency-key"):
        return
    replay = case.call()  # the same case, so before_call leaves it as it was sent
    if replay.status_code != response.status_code:
        raise AssertionError(f"replay with x-idempotency-key {headers['x-idempotency-key']!r} answered "
                             f"{replay.status_code}, the original {response.status_code}")
    first, again = _json(response.content), _json(replay.content)
    if first != again:
        raise AssertionError(f"replay with x-idempotency-key {headers['x-idempotency-key']!r} answered "
                             f"another body:\n  first:  {response.content[:300]!r}\n  replay: "
                             f"{replay.content[:300]!r}")


def _json(content: bytes):
    try:
        return json.loads(content or b"null")
    except ValueError:
        return content


CUSTOM_CHECKS = ("response_has_x_cid", "documented_error_envelope", "idempotent_replay_returns_same_body")
