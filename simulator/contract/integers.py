"""Integer rules the schemas cannot state: every integer the contract declares fits in 64
bits (ERRATA E-14), and integer parameters are spelled in plain ASCII digits (E-15)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pismo_sandbox.jsonio import number_outside
from pismo_sandbox.validation import INTEGER_TEXT as _INTEGER_TEXT, parameter_source, resolve_ref as _resolve

if TYPE_CHECKING:
    from flask import Request

    from pismo_sandbox.contract.operations import CheckedRequest, Operation

INT64 = (-(2**63), 2**63 - 1)


def check_integer_range(op: Operation, checked: "CheckedRequest", document: dict) -> None:
    """Integers must fit in 64 bits, as every id and amount does in Pismo's services (and in
    SQLite): a schema-valid 10**30 is still a client mistake, answered as invalid, never a 500.
    Only where the contract declares an integer (ERRATA E-14: ``format: int64``): a field it
    does not declare is ignored whatever it holds (found by the contract harness)."""

    def walk(value: object, schema: dict | None, path: str) -> None:
        if isinstance(value, bool) or not isinstance(schema, dict):
            return
        schema = _resolve(document, schema)
        branches = [schema] + [
            _resolve(document, sub)
            for key in ("allOf", "anyOf", "oneOf")
            for sub in schema.get(key) or []
            if isinstance(sub, dict)
        ]
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
                op.errors.get("invalid").raise_(details=f"{location} parameter {name}: must fit in a 64-bit integer")


def check_integer_spelling(op: Operation, checked: "CheckedRequest", request: Request) -> None:
    """Integer parameters in plain ASCII digits (E-15): Python's int(), which openapi-core casts
    with, also reads " 5", "1_0" and "١"."""
    for location in ("path", "query", "header"):
        for name, value in getattr(checked, location).items():
            if not isinstance(value, int) or isinstance(value, bool):
                continue  # only integers are spelled out: the raw text is read for them alone
            raw = parameter_source(request, location).get(name)
            if isinstance(raw, str) and not _INTEGER_TEXT.fullmatch(raw):
                op.errors.get("invalid_parameter").raise_(
                    details=f"{location} parameter {name}: must be an integer in digits"
                )


def _has_wide_integer(value: object) -> bool:
    """Whether any number in a parsed JSON value falls outside int64 (the usual answer, no,
    costs one pass over the values and no schema lookups)."""
    return number_outside(value, *INT64)


def _declares_integer(schema: dict) -> bool:
    kinds = schema.get("type")
    return kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)
