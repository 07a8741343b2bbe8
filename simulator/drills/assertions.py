"""Plain assertions: counts of events, journal rows, payments and credentials in the drill window,
and expectations on the responses the runner itself received (steps and probes)."""

from __future__ import annotations

import fnmatch
from typing import Any

from pismo_sandbox.drills.invariants import describe_payment, describe_row
from pismo_sandbox.drills.model import Check, Exchange, Observation


def count_text(count: dict) -> str:
    low, high = count.get("min"), count.get("max")
    if low is not None and low == high:
        return f"exactly {low}"
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"between {low} and {high}"


def count_ok(n: int, count: dict) -> bool:
    return (count.get("min") is None or n >= count["min"]) and (count.get("max") is None or n <= count["max"])


def _filter_text(subject: dict) -> str:
    shown = {k: v for k, v in subject.items() if v is not None}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) or "all"


def _event_type_matches(event_type: str, wanted: str) -> bool:
    return event_type == wanted or event_type.rsplit("-", 1)[0] == wanted


def select(kind: str, subject: dict, obs: Observation) -> list[dict]:
    """The rows of the drill window an assertion's filter selects."""
    tenant_id = obs.tenants[subject["tenant"]]["tenant_id"] if subject.get("tenant") else None
    if kind == "events":
        return [
            e
            for e in obs.events
            if (subject["type"] is None or _event_type_matches(e["event_type"], subject["type"]))
            and (subject["domain"] is None or e["domain"] == subject["domain"])
            and (tenant_id is None or e["org_id"] == tenant_id)
        ]
    if kind == "journal":
        return [
            r
            for r in obs.journal
            if (subject["operation_id"] is None or r.get("operation_id") == subject["operation_id"])
            and (subject["method"] is None or r["method"] == subject["method"].upper())
            and (subject["path"] is None or fnmatch.fnmatchcase(r["path"], subject["path"]))
            and (subject["status"] is None or r["status"] in subject["status"])
            and (subject["verdict"] is None or r.get("verdict") == subject["verdict"])
            and (subject["fault"] is None or bool(r.get("fault_rule")) == subject["fault"])
            and (tenant_id is None or r.get("tenant_id") == tenant_id)
            and (subject["idempotency_key"] is None or r.get("idempotency_key") == subject["idempotency_key"])
        ]
    if kind == "payments":
        account_id = obs.accounts[subject["account"]]["account_id"] if subject.get("account") else None
        bar_code = obs.boletos[subject["boleto"]]["bar_code"] if subject.get("boleto") else None
        return [
            p
            for p in obs.payments
            if (tenant_id is None or p["tenant_id"] == tenant_id)
            and (account_id is None or p["account_id"] == account_id)
            and (bar_code is None or p["bar_code"] == bar_code)
            and (subject["status"] is None or p["status"] in subject["status"])
        ]
    if kind == "credentials":
        return [
            c
            for c in obs.credentials
            if (tenant_id is None or c["tenant_id"] == tenant_id)
            and (subject["provider"] is None or c["provider"] == subject["provider"])
            and (subject["type"] is None or c["type"] == subject["type"])
            and (subject["version"] is None or c.get("version") == subject["version"])
        ]
    raise ValueError(kind)


def _row_text(kind: str, row: dict, obs: Observation) -> str:
    if kind == "events":
        return f"event #{row.get('seq')} {row['event_type']} ({row['domain']}) cid={row.get('cid')}"
    if kind == "journal":
        return describe_row(row, {r["id"]: r for r in obs.faults if "id" in r})
    if kind == "payments":
        return describe_payment(row, obs)
    return f"credential {row['provider']}/{row['type']} of tenant {row.get('tenant')!r} version {row.get('version')}"


def count_check(assertion: dict, obs: Observation, line: int | None = None) -> Check:
    kind = assertion["kind"]
    subject = assertion[kind]
    rows = select(kind, subject, obs)
    wanted = assertion["count"]
    name = assertion.get("description") or f"{kind}({_filter_text(subject)}) count {count_text(wanted)}"
    passed = count_ok(len(rows), wanted)
    summary = f"{len(rows)} {kind} where {_filter_text(subject)}; expected {count_text(wanted)}"
    details = [_row_text(kind, r, obs) for r in rows[:30]]
    if len(rows) > 30:
        details.append(f"... and {len(rows) - 30} more")
    requests = rows if kind == "journal" else []
    return Check(
        "assertion",
        name,
        passed,
        summary,
        [] if passed and kind != "journal" else details,
        requests if not passed else [],
        line,
    )


# -- responses -------------------------------------------------------------------------------------

MISSING = object()


def dig(value: Any, path: str) -> Any:
    """``body.a.b.0.c``-style lookup in JSON; MISSING when absent."""
    current = value
    for part in [p for p in path.split(".") if p != ""]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or (actual == expected and type(actual) is type(expected))
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        return abs(actual - expected) < 1e-9
    if isinstance(actual, (int, float)) and isinstance(expected, str):
        return str(actual) == expected
    return actual == expected


def response_problems(exchange: Exchange, expect: dict | None) -> list[str]:
    """What differs between a response and its expectations (expectations already interpolated)."""
    if not expect:
        return []
    problems = []
    if expect.get("error"):
        if exchange.error != expect["error"]:
            got = f"{exchange.status}" if exchange.status is not None else f"{exchange.error}"
            problems.append(f"expected no answer ({expect['error']}), got {got}")
        return problems
    if exchange.status is None:
        return [f"no answer: {exchange.error} ({exchange.error_text})"]
    if expect.get("status") and exchange.status not in expect["status"]:
        problems.append(f"status {exchange.status}, expected {' or '.join(map(str, expect['status']))}")
    for path, wanted in (expect.get("body") or {}).items():
        actual = dig(exchange.body, path)
        if actual is MISSING:
            problems.append(f"body.{path} is missing, expected {wanted!r}")
        elif not same(actual, wanted):
            problems.append(f"body.{path} is {actual!r}, expected {wanted!r}")
    headers = {k.lower(): v for k, v in exchange.headers.items()}
    for name, wanted in (expect.get("headers") or {}).items():
        actual = headers.get(name.lower())
        if actual != str(wanted):
            problems.append(f"header {name} is {actual!r}, expected {wanted!r}")
    return problems


def response_check(
    kind: str, name: str, exchange: Exchange, expect: dict | None, line: int | None, related: list[dict]
) -> Check:
    problems = response_problems(exchange, expect)
    summary = exchange.describe()
    if problems:
        body = exchange.body if isinstance(exchange.body, (dict, list)) else (exchange.body or "")
        return Check(
            kind,
            name,
            False,
            f"{summary}: {problems[0]}",
            problems[1:] + [f"response body: {str(body)[:500]}"],
            related,
            line,
        )
    return Check(kind, name, True, summary, [], [], line)
