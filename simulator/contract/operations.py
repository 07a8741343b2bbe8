"""Operations: every bundled operation indexed by method and route, matched to a request, and
the request and response checked against it (compiled validators first, openapi-core for what
they are unsure about)."""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pismo_sandbox.contract.error_map import ErrorMap, core as _core, describe_error, raise_for
from pismo_sandbox.contract.integers import check_integer_range, check_integer_spelling
from pismo_sandbox.contracts.bundle import METHODS, SOURCES, TOKEN, SpecSource, load_document
from pismo_sandbox.jsonio import TooDeep
from pismo_sandbox.validation import CompiledOperation, SchemaRoot, resolve_ref as _resolve

if TYPE_CHECKING:
    from flask import Request, Response
    from openapi_core import OpenAPI


@dataclass
class Operation:
    spec: str
    operation_id: str
    method: str
    path: str  # the spec path, e.g. /v1/bankslips/pay
    url_path: str  # base path + spec path, e.g. /integrated-payments/v1/bankslips/pay
    errors: ErrorMap
    core: "CoreApi" = field(repr=False)
    auth: str = TOKEN
    declared_statuses: frozenset[str] = frozenset()
    has_body: bool = False
    bodiless_statuses: frozenset[str] = frozenset()
    compiled: CompiledOperation | None = field(default=None, repr=False)

    @property
    def api(self) -> OpenAPI:
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


class CoreApi:
    """One document's openapi-core object, built (and openapi-core imported) on first use:
    openapi-core re-checks only what the compiled validators are unsure about, and importing it
    is about half of start-up."""

    _lock = threading.Lock()

    def __init__(self, document: dict):
        self._document = document
        self._api: OpenAPI | None = None

    @property
    def loaded(self) -> bool:
        return self._api is not None

    def get(self) -> OpenAPI:
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
            root = SchemaRoot(document)  # the document's components, converted once for its operations
            base = _base_path(document)
            doc_errors = document.get("x-sandbox-errors", {})
            for path, item in document.get("paths", {}).items():
                for method, spec in item.items():
                    if method not in METHODS:
                        continue
                    op = Operation(
                        spec=name,
                        operation_id=spec["operationId"],
                        method=method.upper(),
                        path=path,
                        url_path=base + path,
                        errors=ErrorMap({**doc_errors, **spec.get("x-sandbox-errors", {})}),
                        core=core,
                        auth=source.auth,
                        has_body="requestBody" in spec,
                        bodiless_statuses=frozenset(
                            str(status)
                            for status, response in spec.get("responses", {}).items()
                            if "content" not in _resolve(document, response)
                        ),
                        compiled=CompiledOperation(document, path, method, root) if compiled else None,
                        declared_statuses=frozenset(str(s) for s in spec.get("responses", {})),
                    )
                    self.operations[(op.method, op.flask_rule)] = op
                    self.by_id[op.operation_id] = op

    def warm(self) -> None:
        """Import openapi-core and build every document's object, then compile every operation's
        validators, now, ahead of need. (A validator compiles in about a millisecond when a
        request needs it first; openapi-core takes far longer, so it goes first.)"""
        for op in self.by_id.values():
            op.core.get()
        for op in self.by_id.values():
            if op.compiled is not None:
                op.compiled.validators()

    def match(self, method: str, rule: str | None) -> Operation | None:
        if rule is None:
            return None
        return self.operations.get((method.upper(), rule))

    # -- requests ----------------------------------------------------------------------------
    def check_request(self, op: Operation, request: Request) -> "CheckedRequest":
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
            checked = CheckedRequest(
                body=request.get_json(silent=True) if op.has_body else None,
                path=dict(params.path or {}),
                query=dict(params.query or {}),
                header=dict(params.header or {}),
            )
            check_integer_spelling(op, checked, request)
        check_integer_range(op, checked, self.documents[op.spec])
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
    def check_response(self, op: Operation, request: Request, response: Response) -> list[str]:
        """Every way the response breaks the contract (empty when it conforms)."""
        if op.compiled is not None and op.compiled.response_conforms(response):
            return []
        return self.core_response_problems(op, request, response)

    def core_response_problems(self, op: Operation, request: Request, response: Response) -> list[str]:
        """The response as openapi-core alone judges it (plus the no-content rule)."""
        core = _core()
        result = op.api.unmarshal_response(core.RequestLine(request), core.FlaskOpenAPIResponse(response))
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
        path: {
            method: ({k: v for k, v in op.items() if k != "security"} if isinstance(op, dict) else op)
            for method, op in item.items()
        }
        for path, item in document.get("paths", {}).items()
    }
    return stripped


def _unreadable_body(request: Request) -> str | None:
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
