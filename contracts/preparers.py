"""Preparers: what a valid case of an operation needs that random data cannot conjure (an
existing NORMAL account, a real ISPB, a boleto with valid check digits, a validate before a
pay), filled in just before the request goes out, in the parts generated as valid only.

Each preparer says why it exists; the list is in contracts/README.md ("What the harness steers,
and why"). Preparers repair, they do not overwrite: a value that already satisfies the rule (for
instance one an OpenAPI link carried over from the previous response) is kept.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar
from collections.abc import Callable, Mapping

from schemathesis import Case, GenerationMode
from schemathesis.core import NOT_SET

from pismo_sandbox.contracts.run_state import RunState

if TYPE_CHECKING:
    from pismo_sandbox.domains.bankslips.boleto import Slip

# -- preparers ---------------------------------------------------------------------------------
#
# operationId -> function(case, state). Each one states the business rule it satisfies, so a
# reader can tell "valid for the schema, meaningful for the API" apart from a weakened check.

PREPARERS: dict[str, Callable] = {}
F = TypeVar("F", bound=Callable[[Case, RunState], None])


def preparer(*operation_ids: str) -> Callable[[F], F]:
    def register(func: F) -> F:
        for operation_id in operation_ids:
            PREPARERS[operation_id] = func
        return func

    return register


@preparer("post-credentials")
def _credential(case: Case, state: RunState) -> None:
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
def _register_bank_account(case: Case, state: RunState) -> None:
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
            number = "1" + number[len(_TRIGGER_PREFIX) :]
        scheme["account_number"] = number


@preparer(
    "get-intl-bank-accounts-v2-bank-accounts-account-id-bank-accounts-scheme-name",
    "delete-intl-bank-accounts-v2-accounts-account-id-bank-accounts-scheme-name",
)
def _own_account_path(case: Case, state: RunState) -> None:
    """The run's own account in the path: any other id is not this token's account."""
    if state.account_id is not None and "accountId" in (case.path_parameters or {}) and positive(case, "path"):
        case.path_parameters["accountId"] = str(state.account_id)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@preparer("sandbox-create-fault")
def _fault_rule(case: Case, state: RunState) -> None:
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
        _complete_delay(action)


@preparer("sandbox-create-subscription")
def _subscription(case: Case, state: RunState) -> None:
    """What sandbox-admin-deliveries.yaml states in prose: the url's host must be one the
    sandbox delivers to (PISMO_SANDBOX_DELIVERY_HOSTS, loopback by default). The port is the
    discard port: a served target's attempts are refused, on loopback."""
    from urllib.parse import urlsplit

    body = case.body if isinstance(case.body, dict) and positive(case, "body") else None
    if body is None:
        return
    url = body.get("url")
    try:
        ok = (
            isinstance(url, str)
            and urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
            and urlsplit(url).port is not None
        )
    except ValueError:
        ok = False
    if not ok:
        body["url"] = "http://127.0.0.1:9/events"


_DELIVERY_PARAMETERS = {
    "duplicate": {"copies"},
    "drop": set(),
    "reorder": {"window", "hold_ms"},
    "delay": {"ms", "min_ms", "max_ms", "median_ms", "sigma", "cap_ms", "distribution"},
}


@preparer("sandbox-create-delivery-fault")
def _delivery_fault_rule(case: Case, state: RunState) -> None:
    """The action rules sandbox-admin-deliveries.yaml states in prose (they depend on ``type``):
    each action takes only its own parameters; a reorder needs a window; a delay needs the
    parameters of its distribution, with min_ms <= max_ms."""
    action = case.body.get("action") if isinstance(case.body, dict) and positive(case, "body") else None
    if not _object(action) or action.get("type") not in _DELIVERY_PARAMETERS:
        return
    kind = action["type"]
    for name in list(action):
        if name != "type" and name not in _DELIVERY_PARAMETERS[kind]:
            del action[name]
    if kind == "reorder":
        action.setdefault("window", 2)
    if kind == "delay":
        _complete_delay(action)


# -- bank slips --------------------------------------------------------------------------------

VALIDATE_PATH = "/integrated-payments/v1/bankslips/validate"
VALIDATE_ID = "post-integrated-payments-api-v1-bankslips-validate"
PAY_ID = "post-integrated-payments-api-v1-bankslips-pay"
_KINDS = {1: "bank", 2: "dealership"}


def _slip(text: Any, kind_type: Any, field: str) -> Slip | None:
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
def _validate_slip(case: Case, state: RunState) -> None:
    """Exactly one of bar_code / digitable_line (the operation's documented rule), naming a slip
    whose check digits are right and whose kind agrees with ``type``."""
    body = case.body
    if not _object(body) or not positive(case, "body") or body.get("type") not in _KINDS:
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
def _pay_slip(case: Case, state: RunState) -> None:
    """Pay names the run's account, a slip this account validated (a fresh one is validated
    now unless the case already carries one, e.g. from the validate -> pay link), the amount and
    external_authorization that validation returned, and BRL. The idempotency key is fresh per
    case (a generated key reused with another body is, rightly, a 409)."""
    body = case.body
    if (
        isinstance(case.headers, dict)
        and positive(case, "header")
        and any(k.lower() == "x-idempotency-key" for k in case.headers)
    ):
        for name in [k for k in case.headers if k.lower() == "x-idempotency-key"]:
            case.headers[name] = state.unique("uuid")
    if not _object(body) or not positive(case, "body"):
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
def _receipts_query(case: Case, state: RunState) -> None:
    """A window that is not inverted (beginDatetime <= endDatetime) and a paging cursor that is
    one (a previous page's last_evaluated_payment_datetime, or an RFC 3339 instant)."""
    from pismo_sandbox.clock import parse_instant

    query = case.query
    if not isinstance(query, dict) or not positive(case, "query"):
        return

    def instant(value: object) -> datetime | None:
        try:
            return parse_instant(str(value))
        except ValueError:
            return None

    begin, end = query.get("beginDatetime"), query.get("endDatetime")
    start, stop = instant(begin), instant(end)  # None for a missing one too
    if start is not None and stop is not None and start > stop:
        query["beginDatetime"], query["endDatetime"] = end, begin
    cursor = query.get("lastEvaluatedPaymentDatetimeQuery")
    if cursor is not None:
        moment, _, last = str(cursor).partition("~")
        if instant(moment) is None or (last and not last.isdigit()):
            query.pop("lastEvaluatedPaymentDatetimeQuery")


@preparer("sandbox-generate-boleto")
def _boleto_request(case: Case, state: RunState) -> None:
    """The generator's rules the schema states in prose: trigger or free_field, not both; money
    with at most 2 decimals; charges only on a slip with an amount, and a discount that leaves
    something to pay; bank slips take bank/due_date (within the FEBRABAN factor window), dealership
    slips a segment."""
    body: object = case.body
    if not _object(body) or not positive(case, "body") or body.get("kind") not in ("bank", "dealership"):
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
    elif "discount" in body and body["amount"] + body.get("fine", 0) + body.get("interest", 0) - body["discount"] <= 0:
        body.pop("discount")
    if body["kind"] == "bank":
        body.pop("segment", None)
        due = body.get("due_date")
        if isinstance(due, str) and not "2000-07-03" <= due <= "2100-12-31":
            body.pop("due_date")
    else:
        body.pop("bank", None)
        body.pop("due_date", None)


def positive(case: Case, location: str) -> bool:
    """Whether this part of the case ("body", "path", "query", "header") was generated valid.
    Preparers only touch valid parts: a deliberately invalid part stays as generated."""
    meta = case.meta
    if meta is None:
        return True
    for where, info in meta.components.items():
        if str(getattr(where, "value", where)).lower() == location:
            return info.mode == GenerationMode.POSITIVE
    return meta.generation.mode == GenerationMode.POSITIVE


def canonical_integers(case: Case) -> None:
    """ERRATA E-15: a valid integer parameter is sent as clients write it ("47009", never the
    "47009.0" JSON Schema would also call an integer); the simulator refuses the latter."""
    for attribute, location in (("query", "query"), ("path_parameters", "path")):
        values = getattr(case, attribute, None)
        if values and positive(case, location):
            for name, value in list(values.items()):
                if isinstance(value, float) and value.is_integer():
                    values[name] = int(value)


def json_post(case: Case) -> None:
    """A POST without a body still says ``Content-Type: application/json``, as the sandbox
    requires of every POST (docs/security.md: a browser sends other POSTs cross-site without
    asking); a case that names a content type of its own is sent as it is."""
    headers: Mapping[str, Any] = case.headers or {}
    if (
        case.method.upper() == "POST"
        and case.body is NOT_SET
        and not any(name.lower() == "content-type" for name in headers)
    ):
        # a plain dict, as schemathesis stores generated headers (its annotation says CaseInsensitiveDict)
        case.headers = {**headers, "Content-Type": "application/json"}  # type: ignore[assignment]


def _object(value: object) -> TypeGuard[dict[str, Any]]:
    """Whether a generated value is a JSON object (its values are checked where they matter)."""
    return isinstance(value, dict)


def _complete_delay(action: dict) -> None:
    """A delay action (request or delivery fault) with the fields its distribution needs, and a
    uniform range the right way round."""
    distribution = action.get("distribution", "fixed")
    by_distribution: dict[str, dict[str, float]] = {
        "fixed": {"ms": 0},
        "uniform": {"min_ms": 0, "max_ms": 0},
        "lognormal": {"median_ms": 0.0, "sigma": 0.0, "cap_ms": 0},
    }
    needs = by_distribution.get(distribution, {})
    for name, default in needs.items():
        action.setdefault(name, default)
    if (
        distribution == "uniform"
        and _number(action.get("min_ms"))
        and _number(action.get("max_ms"))
        and action["min_ms"] > action["max_ms"]
    ):
        action["min_ms"], action["max_ms"] = action["max_ms"], action["min_ms"]
