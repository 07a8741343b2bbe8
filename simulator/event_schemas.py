"""The schemas of the events the sandbox emits (``contracts/openapi/sandbox-events.yaml``),
compiled once per process, and the check every event meets as it is written: an event that
breaks its schema is a simulator bug, refused like a response that breaks its contract."""

from __future__ import annotations

import functools

import jsonschema_rs

from pismo_sandbox.contracts.bundle import parse_document, read_text

FILENAME = "sandbox-events.yaml"


class EventSchemaViolation(RuntimeError):
    """An event the sandbox was about to write breaks its documented schema (a simulator bug)."""


@functools.lru_cache(maxsize=1)
def _validators() -> tuple[jsonschema_rs.Draft202012Validator, dict[str, jsonschema_rs.Draft202012Validator]]:
    document = parse_document(FILENAME, read_text(FILENAME))
    defs = document.get("$defs", {})

    def compile_(schema: dict) -> jsonschema_rs.Draft202012Validator:
        return jsonschema_rs.Draft202012Validator({**schema, "$defs": defs}, validate_formats=True)

    return compile_(document["envelope"]), {name: compile_(schema) for name, schema in document["events"].items()}


def documented_event_types() -> frozenset[str]:
    return frozenset(_validators()[1])


def problems(envelope: dict) -> list[str]:
    """Every way ``envelope`` breaks the envelope schema or its event's schema."""
    envelope_validator, by_type = _validators()
    found = [
        f"{'/'.join(map(str, e.instance_path)) or '(envelope)'}: {e.message}"
        for e in envelope_validator.iter_errors(envelope)
    ]
    validator = by_type.get(envelope.get("event_type", ""))
    if validator is None:
        return found + [f"event_type: {envelope.get('event_type')!r} has no documented schema"]
    return found + [
        f"data/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(envelope.get("data"))
    ]


def check(envelope: dict) -> None:
    """Raise :class:`EventSchemaViolation` when the event breaks its schema. A yes/no check
    first (one call per schema); the problems are listed only for an event that fails it."""
    envelope_validator, by_type = _validators()
    validator = by_type.get(envelope.get("event_type", ""))
    if validator is not None and envelope_validator.is_valid(envelope) and validator.is_valid(envelope.get("data")):
        return
    found = problems(envelope)
    if found:
        raise EventSchemaViolation(f"event {envelope.get('event_type')} breaks its schema: " + "; ".join(found))
