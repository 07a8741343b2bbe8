"""Reading fault rules from a YAML or JSON file (`pismo-sandbox serve --faults FILE`).

A mistake is reported as drill scenario files report theirs: ``FILE:LINE:COLUMN: rule N:
field.path: problem``, every mistake of the file at once."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from pismo_sandbox.faults.rules import validate_rule


class FaultFileError(ValueError):
    """A rules file that cannot be used; the message names the file, the line and the rule."""


def _flatten(messages: Any, path: tuple = ()) -> list[tuple[tuple, str]]:
    """marshmallow's nested messages as (field path, text) pairs."""
    if isinstance(messages, dict):
        return [
            pair
            for key, value in messages.items()
            for pair in _flatten(value, path if key == "_schema" else path + (key,))
        ]
    if isinstance(messages, list):
        return [
            pair
            for item in messages
            for pair in (_flatten(item, path) if isinstance(item, (dict, list)) else [(path, str(item))])
        ]
    return [(path, str(messages))]


def read_rules(path: str) -> list[dict]:
    """The rules in the file, each validated; a list, or a mapping with a `rules` list."""
    # The YAML reader that keeps every field's line and column is the drill scenarios' one.
    from pismo_sandbox.drills.scenario_file import Problem, ScenarioError, format_path, read_yaml

    try:
        data, marks = read_yaml(path)  # JSON is YAML too
    except ScenarioError as error:
        raise FaultFileError(str(error)) from None
    prefix: tuple = ("rules",) if isinstance(data, dict) else ()
    if isinstance(data, dict) and "rules" not in data and "delivery_rules" in data:
        return []  # a file of delivery fault rules only (docs/events.md)
    rules = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(rules, list):
        line, column = marks.find(prefix)
        raise FaultFileError(
            str(Problem(path, line, column, "", "expected a list of rules, or a mapping with a 'rules' list"))
        )
    problems = []
    for index, rule in enumerate(rules):
        try:
            validate_rule(rule)
        except ValidationError as error:
            for field_path, text in _flatten(error.messages):
                line, column = marks.find(prefix + (index,) + field_path)
                where = f"rule {index + 1}" + (f": {format_path(field_path)}" if field_path else "")
                problems.append(Problem(path, line, column, where, text))
    if problems:
        raise FaultFileError("\n".join(str(problem) for problem in problems))
    return rules
