"""Compiled validators for the hot path.

Each operation's parameters, request body and responses are checked with jsonschema-rs
validators built once at start-up from the served document. openapi-core stays the contract
engine: whenever a compiled check is not sure (a value fails, a parameter cannot be cast, a
shape it does not model), the caller re-checks with openapi-core, which produces the documented
error. So answers to bad requests are the same either way, and a good request costs tens of
microseconds instead of milliseconds.
"""

from __future__ import annotations

import copy
import math
import re
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


class CompiledOperation:
    """One operation's request and response checks, compiled."""

    def __init__(self, document: dict, path: str, method: str) -> None:
        self.openapi_30 = str(document.get("openapi", "3.1")).startswith("3.0")
        self._root_extras = {"components": to_json_schema(document.get("components", {}), self.openapi_30)}
        item = document["paths"][path]
        spec = item[method]
        self.modelled = True
        self.parameters: list[_Parameter] = []
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
            self.parameters.append(
                _Parameter(
                    param["in"],
                    param["name"],
                    bool(param.get("required")),
                    cast,
                    self._compile(param.get("schema", {})),
                )
            )
        body = resolve_ref(document, spec.get("requestBody")) if "requestBody" in spec else None
        self.has_body = body is not None
        self.body_required = bool(body and body.get("required"))
        self.body_validator: jsonschema_rs.Draft202012Validator | None = None
        if body is not None:
            content = body.get("content", {})
            if set(content) - {JSON_MEDIA}:
                self.modelled = False
            if JSON_MEDIA in content:
                self.body_validator = self._compile(content[JSON_MEDIA].get("schema", {}))
        self.responses: dict[int, _Response] = {}
        for status, raw in spec.get("responses", {}).items():
            if not str(status).isdigit():
                continue
            response = resolve_ref(document, raw)
            content = response.get("content", {})
            if set(content) - {JSON_MEDIA}:
                continue  # not modelled: openapi-core checks it
            validator = self._compile(content[JSON_MEDIA].get("schema", {})) if content else None
            self.responses[int(status)] = _Response(validator)

    def _compile(self, schema: dict) -> jsonschema_rs.Draft202012Validator:
        root = {**self._root_extras, **to_json_schema(copy.deepcopy(schema), self.openapi_30)}
        return jsonschema_rs.Draft202012Validator(root, validate_formats=True)

    # -- requests ------------------------------------------------------------------------------
    def check_request(self, request: Request) -> tuple[dict, dict, dict, Any] | None:
        """(path, query, header, body) when the request surely conforms, else None."""
        if not self.modelled:
            return None
        found: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        sources: dict[str, ParameterSource] = {
            "path": request.view_args or {},
            "query": request.args,
            "header": request.headers,
        }
        for param in self.parameters:
            raw = sources[param.location].get(param.name)
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
                if body is None or self.body_validator is None or not self.body_validator.is_valid(body):
                    return None
        return found["path"], found["query"], found["header"], body

    # -- responses -----------------------------------------------------------------------------
    def response_conforms(self, response: Response) -> bool:
        """True when the response surely conforms; False means "let openapi-core look"."""
        declared = self.responses.get(response.status_code)
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
