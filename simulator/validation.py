"""Compiled validators for the hot path.

Each operation's parameters, request body and responses are checked with jsonschema-rs
validators built once from the served document, on the operation's first check. openapi-core
stays the contract engine: whenever a compiled check is not sure (a value fails, a parameter
cannot be cast, a shape it does not model), the caller re-checks with openapi-core, which
produces the documented error. So answers to bad requests are the same either way, and a good
request costs tens of microseconds instead of milliseconds.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs

from pismo_sandbox.jsonio import loads

if TYPE_CHECKING:
    from flask import Request, Response

JSON_MEDIA = "application/json"
_NOT_SURE = object()


def resolve_ref(document: dict, node: Any) -> Any:
    """Follow local $refs ("#/components/...") until a real node."""
    while isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def to_json_schema(node: Any, openapi_30: bool) -> Any:
    """An OpenAPI schema as JSON Schema 2020-12 (3.0's nullable and boolean exclusive bounds)."""
    if isinstance(node, list):
        return [to_json_schema(item, openapi_30) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        key: to_json_schema(value, openapi_30)
        for key, value in node.items()
        if key not in {"example", "examples", "discriminator", "xml", "externalDocs"} or not openapi_30
    }
    if openapi_30:
        if out.pop("nullable", False) and "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = kinds + ["null"]
        for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if out.get(bound) is True and limit in out:
                out[bound] = out.pop(limit)
            elif out.get(bound) is False:
                out.pop(bound)
    return out


# Parameters in canonical JSON spelling only (ASCII digits: "²" and "--1" are not numbers);
# anything else is left to openapi-core, which answers with the documented error.
INTEGER_TEXT = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _integer(text: str) -> object:
    return int(text) if INTEGER_TEXT.fullmatch(text) else _NOT_SURE


def _number(text: str) -> object:
    if not _NUMBER.fullmatch(text):
        return _NOT_SURE
    value = float(text)
    if not math.isfinite(value):
        return _NOT_SURE
    return int(text) if INTEGER_TEXT.fullmatch(text) else value


def _scalar_caster(schema: dict) -> Callable[[str], Any] | None:
    """How a path, query or header string becomes its schema type (None: not modelled here)."""
    kind = schema.get("type", "string")
    if kind == "string":
        return str
    if kind == "integer":
        return _integer
    if kind == "number":
        return _number
    if kind == "boolean":
        return lambda text: {"true": True, "false": False}.get(text, _NOT_SURE)
    return None


class ParameterSource(Protocol):
    """Where a parameter's text is looked up: path arguments, query string or headers."""

    def get(self, key: str, /) -> str | None: ...


def parameter_source(request: Request, location: str) -> ParameterSource:
    """Where a parameter of ``location`` ("path", "query" or "header") is read from. The query
    string is parsed only when a query parameter is asked for."""
    if location == "header":
        return request.headers
    if location == "query":
        return request.args
    return request.view_args or {}


@dataclass(frozen=True)
class _Parameter:
    location: str
    name: str
    required: bool
    cast: Callable[[str], Any]
    validator: Any


@dataclass(frozen=True)
class _Response:
    validator: Any | None  # None: the status declares no content


@dataclass(frozen=True)
class _Validators:
    """An operation's compiled validators: its parameters, request body and responses."""

    parameters: tuple[_Parameter, ...]
    body: jsonschema_rs.Draft202012Validator | None
    responses: dict[int, _Response]


class SchemaRoot:
    """One document's components as JSON Schema (what every validator's $refs point into),
    converted once, when the first of the document's operations compiles, for all of them."""

    def __init__(self, document: dict) -> None:
        self.openapi_30 = str(document.get("openapi", "3.1")).startswith("3.0")
        self._components = document.get("components", {})
        self._extras: dict | None = None
        self._lock = threading.Lock()

    def extras(self) -> dict:
        if self._extras is None:
            with self._lock:
                if self._extras is None:
                    self._extras = {"components": to_json_schema(self._components, self.openapi_30)}
        return self._extras

    def compile(self, schema: dict) -> jsonschema_rs.Draft202012Validator:
        # to_json_schema builds new containers throughout: the document is never shared or changed.
        root = {**self.extras(), **to_json_schema(schema, self.openapi_30)}
        return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


class CompiledOperation:
    """One operation's request and response checks, compiled on the operation's first check
    (once, whichever thread gets there first): a process that never checks an operation never
    pays for its validators."""

    def __init__(self, document: dict, path: str, method: str, root: SchemaRoot | None = None) -> None:
        self._root = root if root is not None else SchemaRoot(document)
        self.openapi_30 = self._root.openapi_30
        item = document["paths"][path]
        spec = item[method]
        self.modelled = True
        # (location, name, required, cast, schema) of each parameter the compiled check models
        self._parameters: list[tuple[str, str, bool, Callable[[str], Any], dict]] = []
        seen = set()
        for raw in list(spec.get("parameters", [])) + list(item.get("parameters", [])):
            param = resolve_ref(document, raw)
            key = (param["in"], param["name"].lower() if param["in"] == "header" else param["name"])
            if key in seen:
                continue  # operation-level parameters override path-level ones
            seen.add(key)
            schema = resolve_ref(document, param.get("schema", {}))
            cast = _scalar_caster(schema)
            if cast is None or param["in"] not in {"path", "query", "header"}:
                self.modelled = False
                continue
            self._parameters.append(
                (param["in"], param["name"], bool(param.get("required")), cast, param.get("schema", {}))
            )
        body = resolve_ref(document, spec.get("requestBody")) if "requestBody" in spec else None
        self.has_body = body is not None
        self.body_required = bool(body and body.get("required"))
        self._body_schema: dict | None = None
        if body is not None:
            content = body.get("content", {})
            if set(content) - {JSON_MEDIA}:
                self.modelled = False
            if JSON_MEDIA in content:
                self._body_schema = content[JSON_MEDIA].get("schema", {})
        self._response_schemas: dict[int, dict | None] = {}
        for status, raw in spec.get("responses", {}).items():
            if not str(status).isdigit():
                continue
            response = resolve_ref(document, raw)
            content = response.get("content", {})
            if set(content) - {JSON_MEDIA}:
                continue  # not modelled: openapi-core checks it
            self._response_schemas[int(status)] = content[JSON_MEDIA].get("schema", {}) if content else None
        self._validators: _Validators | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether the validators are compiled yet."""
        return self._validators is not None

    def validators(self) -> _Validators:
        """The compiled validators, built on first use (ahead of need by ``Contract.warm``)."""
        if self._validators is None:
            with self._lock:
                if self._validators is None:
                    self._validators = self._compile_all()
        return self._validators

    def _compile_all(self) -> _Validators:
        compile_ = self._root.compile
        return _Validators(
            parameters=tuple(
                _Parameter(location, name, required, cast, compile_(schema))
                for location, name, required, cast, schema in self._parameters
            ),
            body=compile_(self._body_schema) if self._body_schema is not None else None,
            responses={
                status: _Response(compile_(schema) if schema is not None else None)
                for status, schema in self._response_schemas.items()
            },
        )

    # -- requests ------------------------------------------------------------------------------
    def check_request(self, request: Request) -> tuple[dict, dict, dict, Any] | None:
        """(path, query, header, body) when the request surely conforms, else None."""
        if not self.modelled:
            return None
        validators = self.validators()
        found: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        for param in validators.parameters:
            raw = parameter_source(request, param.location).get(param.name)
            if raw is None:
                if param.required:
                    return None
                continue
            value = param.cast(raw)
            if value is _NOT_SURE or not param.validator.is_valid(value):
                return None
            found[param.location][param.name] = value
        body = None
        if self.has_body:
            data = request.get_data(cache=True)
            if not data:
                if self.body_required:
                    return None
            else:
                if request.mimetype != JSON_MEDIA:
                    return None
                body = request.get_json(silent=True)
                # No JSON schema to check it against: not sure, openapi-core decides.
                if body is None or validators.body is None or not validators.body.is_valid(body):
                    return None
        return found["path"], found["query"], found["header"], body

    # -- responses -----------------------------------------------------------------------------
    def response_conforms(self, response: Response) -> bool:
        """True when the response surely conforms; False means "let openapi-core look"."""
        declared = self.validators().responses.get(response.status_code)
        if declared is None:
            return False
        data = response.get_data()
        if declared.validator is None:
            return not data
        if response.mimetype != JSON_MEDIA or not data:
            return False
        try:
            body = loads(data)  # the sandbox's own reader (orjson), with or without an app context
        except ValueError:
            return False
        return body is not None and declared.validator.is_valid(body)
