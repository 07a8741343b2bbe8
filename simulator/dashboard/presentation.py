"""How values read on a page: the template filters of the dashboard."""

from __future__ import annotations

import json


def when(value: str | None) -> str:
    """An RFC 3339 instant as "2025-06-02 13:00:02.000Z" (the sandbox's time, in UTC)."""
    return value.replace("T", " ") if value else "—"


def pretty(value: object) -> str:
    """A JSON value, indented, for a <pre> block."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def compact(value: object) -> str:
    """A JSON value on one line (objects in a rule's action)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def short(value: str | None, keep: int = 8) -> str:
    """A long id cut to its first characters (the page keeps the whole id in a title)."""
    if not value:
        return "—"
    return value if len(value) <= keep + 4 else value[:keep] + "…"


FILTERS = {"when": when, "pretty": pretty, "compact": compact, "short": short}
