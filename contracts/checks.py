"""The harness's custom checks (registered with ``@schemathesis.check``; they run next to
Schemathesis' own): an ``x-cid`` on every answer, the documented error envelope and codes, and an
idempotent replay answering the same body. See the hooks module's docstring for each rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name.lower()) or response.headers.get(name)
    if isinstance(values, list):
        return values[0] if values else None
    return values


@schemathesis.check
def response_has_x_cid(ctx: CheckContext, response: Response, case: Case) -> None:
    """Every response carries a non-empty x-cid (Pismo's tracking id)."""
    if not (_header(response, "x-cid") or "").strip():
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code} without an x-cid header"
        )


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


def _error_entries(errors: dict) -> Iterator[dict]:
    for value in errors.values():
        if isinstance(value, dict) and "code" in value:
            yield value
        elif isinstance(value, dict):  # nested maps, e.g. missing_header: {name: entry}
            yield from (v for v in value.values() if isinstance(v, dict) and "code" in v)


ENVELOPE_KEYS = {"code", "message", "details"}


@schemathesis.check
def documented_error_envelope(ctx: CheckContext, response: Response, case: Case) -> None:
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
            + "; ".join(
                filter(
                    None,
                    [
                        f"missing {', '.join(missing)}" if missing else "",
                        f"not strings: {', '.join(sorted(wrong))}" if wrong else "",
                        f"unexpected fields: {', '.join(sorted(extra))}" if extra else "",
                    ],
                )
            )
        )
    codes = documented_codes(case.operation.schema.raw_schema, operation, status)
    if codes and body["code"] not in codes:
        raise AssertionError(
            f"{status} code {body['code']!r} is not documented for {case.operation.label} "
            f"{status} (documented: {', '.join(sorted(codes))})"
        )


def _takes_idempotency_key(operation: dict, document: dict) -> bool:
    for parameter in operation.get("parameters") or []:
        parameter = _resolve(document, parameter)
        if parameter.get("in") == "header" and str(parameter.get("name", "")).lower() == "x-idempotency-key":
            return True
    return False


@schemathesis.check
def idempotent_replay_returns_same_body(ctx: CheckContext, response: Response, case: Case) -> None:
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
        raise AssertionError(
            f"replay with x-idempotency-key {headers['x-idempotency-key']!r} answered "
            f"{replay.status_code}, the original {response.status_code}"
        )
    first, again = _json(response.content), _json(replay.content)
    if first != again:
        raise AssertionError(
            f"replay with x-idempotency-key {headers['x-idempotency-key']!r} answered "
            f"another body:\n  first:  {response.content[:300]!r}\n  replay: "
            f"{replay.content[:300]!r}"
        )


def _json(content: bytes) -> Any:
    try:
        return json.loads(content or b"null")
    except ValueError:
        return content


CUSTOM_CHECKS = ("response_has_x_cid", "documented_error_envelope", "idempotent_replay_returns_same_body")
