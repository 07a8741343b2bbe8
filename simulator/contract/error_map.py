"""Error mapping: how a failed contract check becomes the error the operation documents
(its ``x-sandbox-errors`` map), and how a validation failure is described without its value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn
from collections.abc import Iterable

from pismo_sandbox.errors import SandboxError

if TYPE_CHECKING:
    from flask import Request
    from jsonschema.exceptions import ValidationError as SchemaError

    from pismo_sandbox.contract.operations import Operation


def core() -> ModuleType:
    """pismo_sandbox.openapi_bridge, imported on first use (see operations.CoreApi)."""
    from pismo_sandbox import openapi_bridge

    return openapi_bridge


@dataclass(frozen=True)
class ErrorSpec:
    status: int
    code: str
    message: str

    def raise_(self, details: str | None = None, **fmt: str) -> NoReturn:
        message = self.message
        if fmt:
            message = message.format_map(_Default(fmt))
        raise SandboxError(self.code, message, status=self.status, details=details)


class _Default(dict):
    def __missing__(self, key: str) -> str:
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


def raise_for(
    op: Operation, errors: Iterable[Exception], request: Request, unreadable_body: str | None = None
) -> NoReturn:
    """Turn openapi-core request errors into the most specific documented error."""
    core_ = core()
    errors = list(errors)
    for error in errors:  # headers first: Pismo rejects a missing header before reading the body
        if isinstance(error, core_.MissingRequiredParameter) and error.location == "header":
            op.errors.header(error.name).raise_(details=f"missing required header {error.name}")
    for error in errors:
        if isinstance(error, (core_.MissingRequiredParameter, core_.InvalidParameter)):
            op.errors.get("invalid_parameter").raise_(details=describe_error(error))
    if unreadable_body:
        op.errors.get("malformed").raise_(details=unreadable_body)
    for error in errors:
        if isinstance(error, core_.MissingRequestBodyError) or (
            isinstance(error, core_.RequestBodyValidationError) and not isinstance(error, core_.InvalidRequestBody)
        ):
            cause = error.__cause__
            why = (
                "request body is missing"
                if isinstance(error, core_.MissingRequestBodyError)
                else "request body is not valid JSON"
                if isinstance(cause, core_.MediaTypeDeserializeError)
                else "request body media type is not application/json"
            )
            op.errors.get("malformed").raise_(details=why)
    schema_errors = [se for e in errors if isinstance(e, core_.InvalidRequestBody) for se in _schema_errors(e)]
    missing = sorted(
        {_dotted(list(se.path) + [_missing_name(se)]) for se in schema_errors if se.validator == "required"}
    )
    if missing:
        spec = op.errors.get("missing_fields")
        spec.raise_(details="; ".join(f"{m}: is required" for m in missing), fields=", ".join(missing))
    body = _json_or_empty(request)
    for se in schema_errors:
        path = _dotted(list(se.path))
        if se.validator == "enum" and path in op.errors.unsupported_fields and isinstance(se.instance, str):
            values = {name: _short(body.get(name)) for name in op.errors.unsupported_fields}
            op.errors.get("unsupported").raise_(details=describe_schema_error(se), **values)
    op.errors.get("invalid").raise_(
        details="; ".join(describe_schema_error(se) for se in schema_errors)
        or "; ".join(describe_error(e) for e in errors)
    )


def _schema_errors(error: Exception) -> list[SchemaError]:
    cause = error.__cause__
    found = list(getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None) or [])
    flat = []
    for se in found:  # oneOf/anyOf failures carry their sub-errors in .context
        if se.validator in {"oneOf", "anyOf"} and not _own_message(se):
            flat.extend(_closest_branch(se.context) or [se])
        else:
            flat.append(se)
    return flat


def _closest_branch(context: list[SchemaError] | None) -> list[SchemaError]:
    """The sub-errors of the branch the instance came closest to: one that misses no field if
    there is one (a body with every field of a branch broke that branch's other rules)."""
    branches: dict = {}
    for sub in context or []:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else 0, []).append(sub)
    complete = [errors for errors in branches.values() if all(e.validator != "required" for e in errors)]
    return complete[0] if complete else list(context or [])


def _own_message(se: SchemaError) -> str | None:
    """The words a schema gives for breaking a rule JSON Schema cannot name well (``anyOf``,
    ``not``, ``pattern``): ``x-sandbox-message`` on the rule's subschema or on its schema."""
    if se.validator not in {"anyOf", "oneOf", "not", "pattern"}:
        return None
    for node in (se.validator_value, se.schema):
        if isinstance(node, dict) and isinstance(node.get("x-sandbox-message"), str):
            return node["x-sandbox-message"]
    return None


def _missing_name(schema_error: SchemaError) -> str:
    match = re.match(r"'([^']+)' is a required property", schema_error.message)
    return match.group(1) if match else "?"


def _dotted(path: list) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out or "body"


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_or_empty(request: Request) -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "an object",
    "array": "an array",
    "boolean": "a boolean",
    "null": "null",
}


def describe_schema_error(se: SchemaError, root: str = "body") -> str:
    """Name the field and the rule it broke, never the value (it may be a secret).

    ``root`` names what an empty path points at: the body, or a parameter.
    """
    own = _own_message(se)
    if own is not None:
        return own
    path = _dotted(list(se.path)) if se.path else root
    v, arg = se.validator, se.validator_value
    if v == "type":
        kinds: list[str] = arg if isinstance(arg, list) else [arg]
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
        rule = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}[v] + f" {arg}"
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
        core_ = core()
        root = (
            f"{error.location} parameter {error.name}"
            if isinstance(error, (core_.InvalidParameter, core_.MissingRequiredParameter))
            else "body"
        )
        return "; ".join(describe_schema_error(se, root) for se in schema_errors)
    name = getattr(error, "name", None)
    text = type(error).__name__
    return f"{text}: {name}" if name else str(error) if len(str(error)) < 200 else text
