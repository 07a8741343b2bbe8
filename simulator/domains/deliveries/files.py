"""Delivery fault rules from a fault file (`serve --faults FILE`): the mapping's
``delivery_rules`` list, next to (or instead of) its request-fault ``rules``."""

from __future__ import annotations

import pathlib

import yaml
from marshmallow import ValidationError

from pismo_sandbox.domains.deliveries.schemas import load_rule
from pismo_sandbox.faults.files import FaultFileError


def read_delivery_rules(path: str) -> list[dict]:
    """The file's delivery fault rules, each validated (none when it has no such list)."""
    try:
        data = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FaultFileError(f"{path}: {error}") from None
    rules = data.get("delivery_rules", []) if isinstance(data, dict) else []
    if not isinstance(rules, list):
        raise FaultFileError(f"{path}: delivery_rules must be a list of rules")
    for index, rule in enumerate(rules):
        try:
            load_rule(rule)
        except ValidationError as error:
            raise FaultFileError(f"{path}: delivery rule {index + 1}: {error.messages}") from None
    return rules
