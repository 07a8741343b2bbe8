"""The contract: bundled OpenAPI documents loaded once, requests and responses validated with
openapi-core, and validation failures mapped to the error each operation documents.

Vendor documents are kept byte-for-byte as Pismo published them; repairs are JSON Patch
overlays applied at load time (each names its entry in contracts/openapi/ERRATA.md).
Which error a failed validation becomes is data too: every operation carries an
``x-sandbox-errors`` map (added by the overlay for vendor documents), so the mapping sits next
to the responses it must agree with.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable

import jsonpatch
import yaml

from pismo_sandbox.errors import SandboxError
from pismo_sandbox.jsonio import TooDeep, number_outside
from pismo_sandbox.validation import INTEGER_TEXT as _INTEGER_TEXT, CompiledOperation, resolve_ref as _resolve

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# libyaml's parser where PyYAML was built with it (its wheels are): the same safe constructor,
# several times faster at start-up.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Who may call an operation: a Pismo token ("token"), nobody in particular ("none": server
# login), or the operator of the sandbox ("admin").
TOKEN, NONE, ADMIN = "token", "none", "admin"


@dataclass(frozen=True)
class SpecSource:
    name: str
    filename: str
    overlay: str | None = None
    vendor: bool = False
    auth: str = TOKEN


SOURCES: tuple[SpecSource, ...] = (
    SpecSource("banking-auth", "banking-auth.v1.json", "banking-auth.v1.overlay.yaml", vendor=True),
    SpecSource("intl-bankaccounts", "intl-bankaccounts.v2.json",
               "intl-bankaccounts.v2.overlay.yaml", vendor=True),
    SpecSource("integrated-payments", "integrated-payments.v1.json",
               "integrated-payments.v1.overlay.yaml", vendor=True),
    SpecSource("passport", "passport.yaml", auth=NONE),
    SpecSource("sandbox-admin", "sandbox-admin.yaml", auth=ADMIN),
    SpecSource("intl-bankaccounts-read", "intl-bankaccounts-read.yaml"),
    SpecSource("integrated-payments-validate", "integrated-payments-validate.yaml"),
    SpecSource("integrated-payments-receipts", "integrated-payments-receipts.yaml"),
    SpecSource("sandbox-admin-bankslips", "sandbox-admin-bankslips.yaml", auth=ADMIN),
    SpecSource("sandbox-admin-deliveries", "sandbox-admin-deliveries.yaml", auth=ADMIN),
    SpecSource("sandbox-sns", "sandbox-sns.yaml", auth=ADMIN),
)


def spec_dir():
    return resources.files("pismo_sandbox.contracts") / "openapi"


def read_text(filename: str) -> str:
    return (spec_dir() / filename).read_text(encoding="utf-8")


def parse_document(filename: str, text: str) -> dict:
    if filename.endswith(".json"):
        # ERRATA E-01: seed 003 has a raw newline inside a JSON string; strict=False accepts it.
        return json.loads(text, strict=False)
    return yaml.load(text, Loader=SAFE_LOADER)


def load_overlay(filename: str) -> list[dict]:
    """The overlay's JSON Patch operations, without their bookkeeping keys."""
    overlay = yaml.load(read_text(filename), Loader=SAFE_LOADER) or {}
    return [{k: v for k, v in patch.items() if k not in {"erratum", "why"}}
            for patch in overlay.get("patches", [])]


def load_document(source: SpecSource) -> dict:
    """The document as served: published text, parsed, with its overlay applied."""
    document = parse_document(source.filename, read_text(source.filename))
    if source.overlay:
        document = jsonpatch.apply_patch(document, load_overlay(source.overlay))
    return with_int64_integers(document)


def with_int64_integers(node):
    """ERRATA E-14: every integer the documents leave unbounded is a 64-bit one (``format: int64``,
    as Pismo's ids and SQLite's integers are), so that clients, validators and the contract
    harness all know that 10**30 is not a valid account id."""
    if isinstance(node, list):
        return [with_int64_integers(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: with_int64_integers(value) for key, value in node.items()}
    kinds = out.get("type")
    if (kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)) and "format" not in out:
        out["format"] = "int64"
    return out


# -- error mapping -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ErrorSpec:
    status: int
    code: str
    message: str

    def raise_(self, details: str | None = None, **fmt) -> None:
        message = self.message
        if fmt:
            message = message.format_map(_Default(fmt))
        raise SandboxError(self.code, message, status=self.status, details=details)


class _Default(dict):
    def __missing__(self, key):
        return "{" + key + "}"


@dataclass(frozen=True)
class ErrorMap:
    """How each kind of contract failure is answered for one operation."""

    entries: dict[str, Any]

    def get(self, kind: str, fallback: str | None = "invalid") -> ErrorSpec:
        entry = self.entries.get(kind)
        if entry is None and fallback:
            entry = self.entries.get(fallback)
        if entry is None:
            entry = {"status": 400, "code": "INVALID_REQUEST", "message": "Invalid request"}
        return ErrorSpec(int(entry["status"]), entry["code"], entry["message"])

    def header(self, name: str) -> ErrorSpec:
        headers = self.entries.get("missing_header", {})
        entry = headers.get(name.lower())
        if entry is None:
            return self.get("invalid_parameter")
        return ErrorSpec(int(entry["status"]), entry["code"], entry["message"])

    @property
    def unsupported_fields(self) -> tuple[str, ...]:
        return tuple(self.entries.get("unsupported", {}).get("fields", ()))


@dataclass
class Operation:
    spec: str
    operation_id: str
    method: str
    path: str          # the spec path, e.g. /v1/bankslips/pay
    url_path: str      # base path + spec path, e.g. /integrated-payments/v1/bankslips/pay
    errors: ErrorMap
    core: "CoreApi" = field(repr=False)
    auth: str = TOKEN
    declared_statuses: frozenset[str] = frozenset()
    has_body: bool = False
    bodiless_statuses: frozenset[str] = frozenset()
    compiled: CompiledOperation | None = field(default=None, repr=False)

    @property
    def api(self):
        """openapi-core's object for this operation's document (built on first use)."""
        return self.core.get()

    @property
    def requires_account(self) -> bool:
        """An operation whose error map documents a missing account needs an account token."""
        return "missing_account" in self.errors.entries

    @property
    def flask_rule(self) -> str:
        return re.sub(r"\{([^}]+)\}", r"<\1>", self.url_path)


def _base_path(document: dict) -> str:
    servers = document.get("servers") or [{"url": "/"}]
    url = servers[0]["url"]
    if "://" in url:
        url = "/" + url.split("://", 1)[1].split("/", 1)[1] if "/" in url.split("://", 1)[1] else "/"
    return url.rstrip("/")


def _core():
    """simulator.openapi_bridge, imported on first use (see CoreApi)."""
    from pismo_sandbox import openapi_bridge
    return openapi_bridge


class CoreApi:
    """One document's openapi-core object, built (and openapi-core imported) on first use:
    openapi-core re-checks only what the compiled validators are unsure about, and importing it
    is about half of start-up."""

    _lock = threading.Lock()

    def __init__(self, document: dict):
        self._document = document
        self._api = None

    @property
    def loaded(self) -> bool:
        return self._api is not None

    def get(self):
        if self._api is None:
            with self._lock:
                if self._api is None:
                    self._api = _core().build_api(_without_security(self._document))
        return self._api


class Contract:
    """Every bundled operation, indexed by HTTP method and Flask rule."""

    def __init__(self, documents: dict[str, tuple[SpecSource, dict]], compiled: bool = True):
        self.documents = {name: document for name, (_, document) in documents.items()}
        self.operations: dict[tuple[str, str], Operation] = {}
        self.by_id: dict[str, Operation] = {}
        for name, (source, document) in documents.items():
            core = CoreApi(document)
            base = _base_path(document)
            doc_errors = document.get("x-sandbox-errors", {})
            for path, item in document.get("paths", {}).items():
                for method, spec in item.items():
                    if method not in METHODS:
                        continue
                    op = Operation(
                        spec=name, operation_id=spec["operationId"], method=method.upper(),
                        path=path, url_path=base + path,
                        errors=ErrorMap({**doc_errors, **spec.get("x-sandbox-errors", {})}),
                        core=core, auth=source.auth, has_body="requestBody" in spec,
                        bodiless_statuses=frozenset(
                            str(status) for status, response in spec.get("responses", {}).items()
                            if "content" not in _resolve(document, response)),
                        compiled=CompiledOperation(document, path, method) if compiled else None,
                        declared_statuses=frozenset(str(s) for s in spec.get("responses", {})))
                    self.operations[(op.method, op.flask_rule)] = op
                    self.by_id[op.operation_id] = op

    def warm(self) -> None:
        """Import openapi-core and build every document's object now, ahead of need."""
        for op in self.by_id.values():
            op.core.get()

    def match(self, method: str, rule: str | None) -> Operation | None:
        if rule is None:
            return None
        return self.operations.get((method.upper(), rule))

    # -- requests ----------------------------------------------------------------------------
    def check_request(self, op: Operation, request) -> "CheckedRequest":
        """Validate the request; return its unmarshalled parts or raise the documented error.

        Security is the gateway's job (it runs first), so the validators skip it.
        """
        checked = None
        if op.compiled is not None:
            fast = op.compiled.check_request(request)
            if fast is not None:
                path, query, header, body = fast
                checked = CheckedRequest(body=body, path=path, query=query, header=header)
        if checked is None:
            # openapi-core's own reader takes NaN, Infinity and lone surrogates; ours does not.
            unreadable = _unreadable_body(request) if op.has_body else None
            try:
                result = op.api.unmarshal_request(_core().Request(request))
            except RecursionError:  # it also reads bodies recursively: too deep for it, too
                if not unreadable:
                    raise
                op.errors.get("malformed").raise_(details=unreadable)
            errors = list(result.errors)
            if errors or unreadable:
                raise_for(op, errors, request, unreadable_body=unreadable)
            params = result.parameters
            # The body stays plain JSON (strings stay strings, e.g. date-times): services parse
            # what they need, and a faster validator can stand in without changing what views get.
            checked = CheckedRequest(body=request.get_json(silent=True) if op.has_body else None,
                                     path=dict(params.path or {}), query=dict(params.query or {}),
                                     header=dict(params.header or {}))
            _check_integer_spelling(op, checked, request)
        _check_integer_range(op, checked, self.documents[op.spec])
        return checked

    def documented_example(self, op: Operation, status: int) -> dict | None:
        """The first example body the operation documents for this status, if any."""
        document = self.documents[op.spec]
        op_spec = document["paths"][op.path][op.method.lower()]
        response = _resolve(document, op_spec.get("responses", {}).get(str(status), {}))
        media = response.get("content", {}).get("application/json", {})
        for example in media.get("examples", {}).values():
            value = _resolve(document, example).get("value")
            if isinstance(value, dict):
                return value
        return media.get("example") if isinstance(media.get("example"), dict) else None

    # -- responses ---------------------------------------------------------------------------
    def check_response(self, op: Operation, request, response) -> list[str]:
        """Every way the response breaks the contract (empty when it conforms)."""
        if op.compiled is not None and op.compiled.response_conforms(response):
            return []
        return self.core_response_problems(op, request, response)

    def core_response_problems(self, op: Operation, request, response) -> list[str]:
        """The response as openapi-core alone judges it (plus the no-content rule)."""
        core = _core()
        result = op.api.unmarshal_response(core.RequestLine(request),
                                           core.FlaskOpenAPIResponse(response))
        problems = [describe_error(e) for e in result.errors]
        if str(response.status_code) in op.bodiless_statuses and response.get_data():
            # openapi-core does not object to a body where none is declared; the contract does.
            problems.append(f"status {response.status_code} declares no content, yet the response has a body")
        return problems


def _without_security(document: dict) -> dict:
    """The gateway authenticates before validation runs, so the validators skip security
    (openapi-core would otherwise refuse a token sent in seed 000's account_token header and
    stop before unmarshalling the body)."""
    stripped = dict(document, security=[])
    stripped["paths"] = {
        path: {method: ({k: v for k, v in op.items() if k != "security"} if isinstance(op, dict) else op)
               for method, op in item.items()}
        for path, item in document.get("paths", {}).items()}
    return stripped


def raise_for(op: Operation, errors: Iterable[Exception], request, unreadable_body: str | None = None) -> None:
    """Turn openapi-core request errors into the most specific documented error."""
    core = _core()
    errors = list(errors)
    for error in errors:  # headers first: Pismo rejects a missing header before reading the body
        if isinstance(error, core.MissingRequiredParameter) and error.location == "header":
            op.errors.header(error.name).raise_(details=f"missing required header {error.name}")
    for error in errors:
        if isinstance(error, (core.MissingRequiredParameter, core.InvalidParameter)):
            op.errors.get("invalid_parameter").raise_(details=describe_error(error))
    if unreadable_body:
        op.errors.get("malformed").raise_(details=unreadable_body)
    for error in errors:
        if isinstance(error, core.MissingRequestBodyError) or (
                isinstance(error, core.RequestBodyValidationError)
                and not isinstance(error, core.InvalidRequestBody)):
            cause = error.__cause__
            why = ("request body is missing" if isinstance(error, core.MissingRequestBodyError)
                   else "request body is not valid JSON" if isinstance(cause, core.MediaTypeDeserializeError)
                   else "request body media type is not application/json")
            op.errors.get("malformed").raise_(details=why)
    schema_errors = [se for e in errors if isinstance(e, core.InvalidRequestBody)
                     for se in _schema_errors(e)]
    missing = sorted({_dotted(list(se.path) + [_missing_name(se)]) for se in schema_errors
                      if se.validator == "required"})
    if missing:
        spec = op.errors.get("missing_fields")
        spec.raise_(details="; ".join(f"{m}: is required" for m in missing),
                    fields=", ".join(missing))
    body = _json_or_empty(request)
    for se in schema_errors:
        path = _dotted(list(se.path))
        if se.validator == "enum" and path in op.errors.unsupported_fields and isinstance(se.instance, str):
            values = {name: _short(body.get(name)) for name in op.errors.unsupported_fields}
            op.errors.get("unsupported").raise_(details=describe_schema_error(se), **values)
    op.errors.get("invalid").raise_(details="; ".join(describe_schema_error(se) for se in schema_errors)
                                    or "; ".join(describe_error(e) for e in errors))


def _schema_errors(error: Exception) -> list:
    cause = error.__cause__
    found = list(getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None) or [])
    flat = []
    for se in found:  # oneOf/anyOf failures carry their sub-errors in .context
        if se.validator in {"oneOf", "anyOf"} and not _own_message(se):
            flat.extend(_closest_branch(se.context) or [se])
        else:
            flat.append(se)
    return flat


def _closest_branch(context: list) -> list:
    """The sub-errors of the branch the instance came closest to: one that misses no field if
    there is one (a body with every field of a branch broke that branch's other rules)."""
    branches: dict = {}
    for sub in context or []:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else 0, []).append(sub)
    complete = [errors for errors in branches.values() if all(e.validator != "required" for e in errors)]
    return complete[0] if complete else list(context or [])


def _own_message(se) -> str | None:
    """The words a schema gives for breaking a rule JSON Schema cannot name well (``anyOf``,
    ``not``, ``pattern``): ``x-sandbox-message`` on the rule's subschema or on its schema."""
    if se.validator not in {"anyOf", "oneOf", "not", "pattern"}:
        return None
    for node in (se.validator_value, se.schema):
        if isinstance(node, dict) and isinstance(node.get("x-sandbox-message"), str):
            return node["x-sandbox-message"]
    return None


def _missing_name(schema_error) -> str:
    match = re.match(r"'([^']+)' is a required property", schema_error.message)
    return match.group(1) if match else "?"


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "body"


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _unreadable_body(request) -> str | None:
    """Why the app's JSON reader refuses the body (None: it reads it, or there is no JSON body
    for it to read, which openapi-core judges)."""
    data = request.get_data(cache=True)
    if not data or request.mimetype != "application/json":
        return None
    try:
        request.json_module.loads(data)
    except TooDeep as error:
        return str(error)
    except ValueError:
        return "request body is not valid JSON"
    return None


def _json_or_empty(request) -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


_TYPE_NAMES = {"string": "a string", "integer": "an integer", "number": "a number",
               "object": "an object", "array": "an array", "boolean": "a boolean", "null": "null"}


def describe_schema_error(se, root: str = "body") -> str:
    """Name the field and the rule it broke, never the value (it may be a secret).

    ``root`` names what an empty path points at: the body, or a parameter.
    """
    own = _own_message(se)
    if own is not None:
        return own
    path = _dotted(list(se.path)) if se.path else root
    v, arg = se.validator, se.validator_value
    if v == "type":
        kinds = arg if isinstance(arg, list) else [arg]
        rule = "must be " + " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
    elif v == "enum":
        rule = "must be one of " + ", ".join(json.dumps(x) for x in arg)
    elif v == "const":
        rule = f"must be {json.dumps(arg)}"
    elif v == "minLength":
        rule = f"must have at least {arg} characters"
    elif v == "maxLength":
        rule = f"must have at most {arg} characters"
    elif v == "pattern":
        rule = f"must match {arg}"
    elif v == "format":
        rule = f"must be a valid {arg}"
    elif v in {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}:
        rule = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=",
                "exclusiveMaximum": "<"}[v] + f" {arg}"
        rule = f"must be {rule}"
    elif v == "additionalProperties":
        extra = re.findall(r"'([^']+)'", se.message.split("(")[-1]) if "(" in se.message else []
        rule = "unexpected field" + (f"s {', '.join(extra)}" if extra else "")
    elif v == "required":
        return f"{_dotted(list(se.path) + [_missing_name(se)])}: is required"
    else:
        rule = f"breaks the {v} rule"
    return f"{path}: {rule}"


def describe_error(error: Exception) -> str:
    schema_errors = _schema_errors(error)
    if schema_errors:
        core = _core()
        root = (f"{error.location} parameter {error.name}"
                if isinstance(error, (core.InvalidParameter, core.MissingRequiredParameter)) else "body")
        return "; ".join(describe_schema_error(se, root) for se in schema_errors)
    name = getattr(error, "name", None)
    text = type(error).__name__
    return f"{text}: {name}" if name else str(error) if len(str(error)) < 200 else text


INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _check_integer_range(op: Operation, checked: "CheckedRequest", document: dict) -> None:
    """Integers must fit in 64 bits, as every id and amount does in Pismo's services (and in
    SQLite): a schema-valid 10**30 is still a client mistake, answered as invalid, never a 500.
    Only where the contract declares an integer (ERRATA E-14: ``format: int64``): a field it
    does not declare is ignored whatever it holds (found by the contract harness)."""
    def walk(value, schema, path: str):
        if isinstance(value, bool) or not isinstance(schema, dict):
            return
        schema = _resolve(document, schema)
        branches = [schema] + [_resolve(document, sub) for key in ("allOf", "anyOf", "oneOf")
                               for sub in schema.get(key) or [] if isinstance(sub, dict)]
        if isinstance(value, (int, float)):  # 1e30 is a JSON Schema integer too
            if any(_declares_integer(branch) for branch in branches) and not INT64[0] <= value <= INT64[1]:
                op.errors.get("invalid").raise_(details=f"{path}: must fit in a 64-bit integer")
        elif isinstance(value, dict):
            for key, item in value.items():
                for branch in branches:
                    declared = (branch.get("properties") or {}).get(key, branch.get("additionalProperties"))
                    walk(item, declared, f"{path}.{key}" if path != "body" else str(key))
        elif isinstance(value, list):
            for branch in branches:
                for index, item in enumerate(value):
                    walk(item, branch.get("items"), f"{path}[{index}]")

    if checked.body is not None and _has_wide_integer(checked.body):
        operation = document["paths"][op.path][op.method.lower()]
        body = _resolve(document, operation.get("requestBody") or {})
        walk(checked.body, ((body.get("content") or {}).get("application/json") or {}).get("schema"), "body")
    for location in ("path", "query", "header"):  # parameters hold integers only where declared
        for name, value in getattr(checked, location).items():
            if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
                op.errors.get("invalid").raise_(
                    details=f"{location} parameter {name}: must fit in a 64-bit integer")


def _check_integer_spelling(op: Operation, checked: "CheckedRequest", request) -> None:
    """Integer parameters in plain ASCII digits (E-15): Python's int(), which openapi-core casts
    with, also reads " 5", "1_0" and "١"."""
    sources = {"path": request.view_args or {}, "query": request.args, "header": request.headers}
    for location in ("path", "query", "header"):
        for name, value in getattr(checked, location).items():
            raw = sources[location].get(name)
            if isinstance(value, int) and not isinstance(value, bool) and isinstance(raw, str) \
                    and not _INTEGER_TEXT.fullmatch(raw):
                op.errors.get("invalid_parameter").raise_(
                    details=f"{location} parameter {name}: must be an integer in digits")


def _has_wide_integer(value) -> bool:
    """Whether any number in a parsed JSON value falls outside int64 (the usual answer, no,
    costs one pass over the values and no schema lookups)."""
    return number_outside(value, *INT64)


def _declares_integer(schema: dict) -> bool:
    kinds = schema.get("type")
    return kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)


@dataclass(frozen=True)
class CheckedRequest:
    """The parts of a request that passed validation: the body as parsed JSON, the path, query
    and header parameters cast to their schema types."""

    body: Any = None
    path: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    header: dict = field(default_factory=dict)


@functools.lru_cache(maxsize=2)
def load_contract(compiled: bool = True) -> Contract:
    """Build every OpenAPI object (and compiled validator) once per process.

    ``compiled=False`` validates everything with openapi-core alone (tests compare the two).
    """
    return Contract({source.name: (source, load_document(source)) for source in SOURCES}, compiled)
