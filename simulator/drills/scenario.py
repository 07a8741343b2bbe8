"""Drill scenario files: read the YAML (keeping the line of every key), validate it with
marshmallow, check every ${reference}, and hand the runner a Scenario.

The parts, one job each: ``scenario_file`` (YAML with line numbers, problems),
``scenario_schema`` (the format) and ``references`` (``${...}``); this module loads a
scenario with them and checks what spans the whole file.

A mistake is reported as ``FILE:LINE:COLUMN: field.path: problem`` (with a "did you mean" for a
misspelt field), all mistakes of a file at once, before any sandbox is started. The format is
documented in scenarios/README.md.
"""

from __future__ import annotations

import difflib
import pathlib
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from marshmallow import Schema, ValidationError, fields

from pismo_sandbox.drills.references import CONSUMER_BUILTINS, OPEN, references, resolve, static_context
from pismo_sandbox.drills.scenario_file import Marks, Path, Problem, ScenarioError, format_path, read_yaml
from pismo_sandbox.drills.scenario_schema import FaultField, ScenarioSchema, Toggle

# -- the loaded scenario ---------------------------------------------------------------------------


@dataclass
class Scenario:
    path: str
    name: str
    description: str
    setup: dict
    faults: list[dict]  # {"rule": admin-API rule, "refs": {"tenant"?, "account"?}}
    steps: list[dict] | None
    client: dict | None
    advance: list[dict]
    expect: dict
    settle_seconds: float | None
    marks: Marks = field(repr=False, default_factory=Marks)
    consumer: dict | None = None  # the consumer under test (consumer drills)
    delivery_faults: list[dict] = field(default_factory=list)

    @property
    def directory(self) -> str:
        return str(pathlib.Path(self.path).resolve().parent)

    def line_of(self, path: Path, exact: bool = False) -> int | None:
        """The line of a field (or of its nearest ancestor in the file, unless ``exact``)."""
        if exact:
            return self.marks.marks.get(tuple(path), (None, None))[0]
        return self.marks.find(path)[0]

    @property
    def tenants(self) -> list[dict]:
        return self.setup["tenants"]

    @property
    def accounts(self) -> list[tuple[dict, dict]]:
        """(tenant, account) pairs in setup order."""
        return [(t, a) for t in self.tenants for a in t["accounts"]]


def _normalise(data: dict) -> None:
    """Defaults that depend on position: tenant and account names, one account per tenant."""
    for i, tenant in enumerate(data["setup"]["tenants"]):
        tenant["name"] = tenant["name"] or f"tenant{i + 1}"
        if tenant["accounts"] is None:
            tenant["accounts"] = [{"name": None, "account_id": None, "status": "NORMAL"}]
        for j, account in enumerate(tenant["accounts"]):
            account["name"] = account["name"] or (tenant["name"] if j == 0 else f"{tenant['name']}-{j + 1}")


def _semantic_problems(data: dict) -> list[tuple[Path, str]]:
    problems: list[tuple[Path, str]] = []

    def unique(items: list[dict], path: Path, what: str, key: str = "name") -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item[key] in seen:
                problems.append(
                    (
                        path + (i, key),
                        f"{what} {item[key]!r} is already defined ({format_path(path + (seen[item[key]],))})",
                    )
                )
            seen.setdefault(item[key], i)

    setup = data["setup"]
    unique(setup["tenants"], ("setup", "tenants"), "tenant")
    all_accounts = [a for t in setup["tenants"] for a in t["accounts"]]
    seen_accounts: set[str] = set()
    for i, tenant in enumerate(setup["tenants"]):
        if not tenant["accounts"] and tenant["credentials"]:
            problems.append(
                (
                    ("setup", "tenants", i, "credentials"),
                    "registering credentials needs an account token: give the tenant an account",
                )
            )
        for j, account in enumerate(tenant["accounts"]):
            if account["name"] in seen_accounts:
                problems.append(
                    (
                        ("setup", "tenants", i, "accounts", j, "name"),
                        f"account {account['name']!r} is already defined (account names are unique across tenants)",
                    )
                )
            seen_accounts.add(account["name"])
        names = {a["name"] for a in tenant["accounts"]}
        for k, credential in enumerate(tenant["credentials"]):
            if credential["account"] is not None and credential["account"] not in names:
                problems.append(
                    (
                        ("setup", "tenants", i, "credentials", k, "account"),
                        f"no account {credential['account']!r} in tenant {tenant['name']!r}",
                    )
                )
    if not all_accounts:
        problems.append((("setup", "tenants"), "the drill needs at least one account (the client's)"))
    unique(setup["boletos"], ("setup", "boletos"), "boleto")

    tenant_names = {t["name"] for t in setup["tenants"]}
    for i, fault in enumerate(data["faults"]):
        for key, known in (("tenant", tenant_names), ("account", seen_accounts)):
            ref = fault["refs"].get(key)
            if ref is not None and ref not in known:
                close = difflib.get_close_matches(ref, sorted(known), n=1)
                problems.append(
                    (
                        ("faults", i, "match", key),
                        f"no {key} named {ref!r} in setup" + (f" (did you mean {close[0]!r}?)" if close else ""),
                    )
                )

    context = static_context(data)

    def check(value: Any, path: Path, ctx: dict) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                check(v, path + (k,), ctx)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                check(v, path + (i,), ctx)
        else:
            for ref in references(value):
                try:
                    resolve(ctx, ref)
                except KeyError as error:
                    problems.append((path, error.args[0]))

    consumer = data.get("consumer")
    if consumer is not None:
        context.update(dict.fromkeys(CONSUMER_BUILTINS, True))
        for part in ("command", "check", "env", "cwd"):
            if consumer[part]:
                check(consumer[part], ("consumer", part), context)
        tenant = (consumer["filter"] or {}).get("tenant")
        if tenant is not None and tenant not in tenant_names:
            problems.append((("consumer", "filter", "tenant"), f"no tenant named {tenant!r} in setup"))
    elif data.get("delivery_faults"):
        problems.append((("delivery_faults",), "delivery faults need a consumer (the events' receiver)"))
    elif data["expect"].get("deliveries") is not None:
        problems.append((("expect", "deliveries"), "delivery expectations need a consumer"))
    if data["client"] is not None:
        check(data["client"]["command"], ("client", "command"), context)
        check(data["client"]["env"], ("client", "env"), context)
        if data["client"]["cwd"]:
            check(data["client"]["cwd"], ("client", "cwd"), context)
    if data["steps"] is not None:
        unique(data["steps"], ("steps",), "step")
        context["steps"] = {}
        for i, step in enumerate(data["steps"]):
            auth = step["auth"]
            if auth not in (None, "none") and auth not in seen_accounts:
                problems.append(
                    (("steps", i, "auth"), f"auth must be none or an account name ({', '.join(sorted(seen_accounts))})")
                )
            for part in ("path", "headers", "query", "json", "expect"):
                check(step[part], ("steps", i, part), context)
            context["steps"][step["name"]] = {"status": True, "body": OPEN, "headers": OPEN}
            for name in step["capture"]:
                if name in context:
                    problems.append(
                        (("steps", i, "capture", name), f"{name!r} is already a name in the scenario; choose another")
                    )
                context[name] = OPEN
            for name, where in step["capture"].items():
                if where.split(".")[0] not in ("body", "headers", "status"):
                    problems.append(
                        (
                            ("steps", i, "capture", name),
                            "must start with body, headers or status (e.g. body.authorization_id)",
                        )
                    )
    for i, assertion in enumerate(data["expect"]["assertions"]):
        if assertion["kind"] == "request":
            check(assertion["request"], ("expect", "assertions", i, "request"), context)
            check(assertion["expect"], ("expect", "assertions", i, "expect"), context)
            auth = assertion["request"]["auth"]
            if auth not in (None, "none") and auth not in seen_accounts:
                problems.append(
                    (("expect", "assertions", i, "request", "auth"), "auth must be none or an account name")
                )
        for key, known, label in (
            ("tenant", tenant_names, "tenant"),
            ("account", seen_accounts, "account"),
            ("boleto", {b["name"] for b in setup["boletos"]}, "boleto"),
        ):
            subject = assertion.get(assertion["kind"])
            ref = subject.get(key) if isinstance(subject, dict) else None
            if ref is not None and ref not in known:
                problems.append(
                    (("expect", "assertions", i, assertion["kind"], key), f"no {label} named {ref!r} in setup")
                )
    invariants = data["expect"]["invariants"]
    reach = invariants.get("payments_reach_status")
    if reach is not None and reach["boletos"] != "all":
        known = {b["name"] for b in setup["boletos"]}
        for name in reach["boletos"]:
            if name not in known:
                problems.append(
                    (("expect", "invariants", "payments_reach_status", "boletos"), f"no boleto named {name!r} in setup")
                )
    return problems


# -- marshmallow errors -> problems -------------------------------------------------------------------


def _flatten(messages: Any, path: Path = ()) -> list[tuple[Path, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out += _flatten(value, path if key == "_schema" else path + (key,))
        return out
    if isinstance(messages, list):
        out = []
        for item in messages:
            out += _flatten(item, path) if isinstance(item, (dict, list)) else [(path, str(item))]
        return out
    return [(path, str(messages))]


def _schema_at(path: Path) -> Schema | None:
    """The schema whose fields live at ``path`` (for "did you mean" on unknown fields)."""
    schema: Any = ScenarioSchema()
    parts = list(path)
    while parts:
        part = parts.pop(0)
        if isinstance(part, int):
            continue
        if not isinstance(schema, Schema) or part not in schema.fields:
            return None
        current = schema.fields[part]
        if isinstance(current, fields.List):
            current = current.inner
        if isinstance(current, (fields.Nested, Toggle, FaultField)):
            schema = current.schema
        else:
            return None
    return schema if isinstance(schema, Schema) else None


def _message(path: Path, text: str) -> str:
    if text == "Unknown field." and path:
        schema = _schema_at(path[:-1])
        known = sorted(schema.fields) if schema else []
        if path[-2:-1] == ("match",):
            known += list(FaultField.sugar)
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        if close:
            return f"unknown field (did you mean {close[0]!r}?)"
        return f"unknown field; known: {', '.join(known)}" if known else "unknown field"
    if text == "Missing data for required field.":
        return "required field is missing"
    return text


def _by_line(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def load_scenario(path: str, text: str | None = None) -> Scenario:
    """Read and check a scenario file; ScenarioError lists every problem with file and line."""
    path = str(path)
    data, marks = read_yaml(path, text)
    problems: list[Problem] = []

    def add(field_path: Path, message: str) -> None:
        line, column = marks.find(field_path)
        problems.append(Problem(path, line, column, format_path(field_path), message))

    for dup_path, (line, column) in marks.duplicates:
        problems.append(Problem(path, line, column, format_path(dup_path), "duplicate key (YAML keeps only the last)"))
    if not isinstance(data, dict):
        add((), "a scenario is a mapping (name, description, setup, faults, steps or client, advance, expect)")
        raise ScenarioError(path, problems)
    try:
        loaded = ScenarioSchema().load(data)
    except ValidationError as error:
        for field_path, text in _flatten(error.messages):
            add(field_path, _message(field_path, text))
        raise ScenarioError(path, _by_line(problems)) from None
    _normalise(loaded)
    for field_path, message in _semantic_problems(loaded):
        add(field_path, message)
    if problems:
        raise ScenarioError(path, _by_line(problems))
    return Scenario(
        path=path,
        name=loaded["name"],
        description=loaded["description"].strip(),
        setup=loaded["setup"],
        faults=loaded["faults"],
        steps=loaded["steps"],
        client=loaded["client"],
        advance=loaded["advance"],
        expect=loaded["expect"],
        settle_seconds=loaded["settle_seconds"],
        marks=marks,
        consumer=loaded["consumer"],
        delivery_faults=loaded["delivery_faults"],
    )


def load_scenarios(paths: Iterable[str], loader: Callable[[str], Scenario] = load_scenario) -> list[Scenario]:
    """Every scenario, or one ScenarioError holding the problems of every bad file."""
    scenarios, problems = [], []
    for path in paths:
        try:
            scenarios.append(loader(path))
        except ScenarioError as error:
            problems += error.problems
    if problems:
        raise ScenarioError(", ".join(sorted({p.file for p in problems})), problems)
    names: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in names and names[scenario.name] != scenario.path:
            line = scenario.marks.find(("name",))
            raise ScenarioError(
                scenario.path,
                [
                    Problem(
                        scenario.path,
                        line[0],
                        line[1],
                        "name",
                        f"drill name {scenario.name!r} is also used by {names[scenario.name]}",
                    )
                ],
            )
        names[scenario.name] = scenario.path
    return scenarios
