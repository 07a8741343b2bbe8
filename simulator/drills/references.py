"""References in drill scenarios: the ``${...}`` names a scenario may use, how a value's
references are found, checked against the shape of the run's context, and replaced."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pismo_sandbox.drills.scenario_schema import BOLETO_FIELDS

# Names a ${reference} may start with (besides tenants., accounts., boletos., steps. and
# captured values). Documented in scenarios/README.md, "References".
BUILTINS = ("base_url", "python", "scenario_dir", "tenant_id", "account_id", "token", "server_key", "server_secret")
# What a consumer drill adds: the receiver's URL, port and scratch directory, and the signing
# secret of its subscription.
CONSUMER_BUILTINS = ("consumer_url", "consumer_port", "consumer_dir", "consumer_secret")
REFERENCE = re.compile(r"\$\{([^${}]*)\}")
ESCAPED = "$${"

# -- references --------------------------------------------------------------------------------------

OPEN = object()  # any deeper path is accepted (a response body)


def references(value: Any) -> list[str]:
    """The ${...} references in a value (strings, mappings, lists)."""
    if isinstance(value, str):
        return REFERENCE.findall(value.replace(ESCAPED, ""))
    if isinstance(value, dict):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def resolve(context: dict, reference: str) -> Any:
    """The value a dotted reference names; KeyError naming the part that is missing."""
    current: Any = context
    parts = reference.strip().split(".")
    for i, part in enumerate(parts):
        if current is OPEN:
            return OPEN
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            known = sorted(current) if isinstance(current, dict) else []
            close = difflib.get_close_matches(part, known, n=1)
            hint = (
                f" (did you mean {close[0]!r}?)" if close else (f" (known: {', '.join(known[:12])})" if known else "")
            )
            where = ".".join(parts[:i]) or "the scenario"
            raise KeyError(f"${{{reference}}}: {where} has no {part!r}{hint}")
    return current


def interpolate(value: Any, context: dict) -> Any:
    """Replace ${...} references; a string that is exactly one reference keeps the value's type."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole:
            return resolve(context, whole.group(1))

        def text(match: re.Match) -> str:
            found = resolve(context, match.group(1))
            return "" if found is None else str(found)

        parts = value.split(ESCAPED)
        return "${".join(REFERENCE.sub(text, part) for part in parts)
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    return value


def static_context(data: dict) -> dict:
    """The shape of the runtime context (runner.Context.values), for checking references."""
    tenants = data["setup"]["tenants"]
    context: dict = dict.fromkeys(BUILTINS, True)
    context["tenants"] = {
        t["name"]: {"tenant_id": True, "server_key": True, "server_secret": True, "name": True} for t in tenants
    }
    context["accounts"] = {
        a["name"]: {"account_id": True, "tenant_id": True, "token": True, "name": True, "status": True}
        for t in tenants
        for a in t["accounts"]
    }
    context["boletos"] = {b["name"]: dict.fromkeys(BOLETO_FIELDS, True) for b in data["setup"]["boletos"]}
    return context
