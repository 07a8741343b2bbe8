"""Reading fault rules from a YAML or JSON file (`pismo-sandbox serve --faults FILE`)."""

from __future__ import annotations

import pathlib

import yaml
from marshmallow import ValidationError

from pismo_sandbox.faults.rules import load_rule


class FaultFileError(ValueError):
    """A rules file that cannot be used; the message names the file and the rule."""


def read_rules(path: str) -> list[dict]:
    """The rules in the file, each validated; a list, or a mapping with a `rules` list."""
    try:
        data = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
    except OSError as error:
        raise FaultFileError(f"{path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise FaultFileError(f"{path}: not YAML or JSON ({error})") from None
    if isinstance(data, dict) and "rules" not in data and "delivery_rules" in data:
        return []  # a file of delivery fault rules only (docs/events.md)
    rules = data.get("rules") if isinstance(data, dict) else data
    if not isinstance(rules, list):
        raise FaultFileError(f"{path}: expected a list of rules, or a mapping with a 'rules' list")
    for index, rule in enumerate(rules):
        try:
            load_rule(rule)
        except ValidationError as error:
            raise FaultFileError(f"{path}: rule {index + 1}: {error.messages}") from None
    return rules
