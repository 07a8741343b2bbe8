"""Reading a drill scenario file: the YAML, the line and column of each of its fields, and the
problems found in a file, reported as ``FILE:LINE:COLUMN: field.path: problem``."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass
from datetime import date, datetime, UTC
from typing import Any
from collections.abc import Iterable

import yaml


Path = tuple  # field path: str keys and int list indexes


# -- errors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # 1-based
    column: int | None  # 1-based
    field: str  # "setup.tenants[0].accounts" ("" for the whole file)
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


class ScenarioError(ValueError):
    """A scenario file that cannot be run; str() lists every problem, one per line."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_path(path: Iterable) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# -- YAML with line numbers ------------------------------------------------------------------------


class Marks:
    """Where each field path starts in the file (the key's position for mapping entries)."""

    def __init__(self) -> None:
        self.marks: dict[Path, tuple[int, int]] = {}
        self.duplicates: list[tuple[Path, tuple[int, int]]] = []

    def walk(self, node: yaml.Node, path: Path = ()) -> None:
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key in seen and key != "<<":
                    self.duplicates.append((path + (key,), where))
                seen.add(key)
                self.marks[path + (key,)] = where
                self.walk(value_node, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, path + (index,))

    def find(self, path: Path) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor present in the file."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (None, None))


def _plain(value: Any) -> Any:
    """YAML timestamps and dates as the ISO strings the admin API takes."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {(str(k) if not isinstance(k, str) else k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_yaml(path: str, text: str | None = None) -> tuple[Any, Marks]:
    """The document and the marks of its fields; ScenarioError for unreadable YAML."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8") if text is None else text
    except OSError as error:
        raise ScenarioError(path, [Problem(path, None, None, "", error.strerror or str(error))]) from None
    marks = Marks()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (error.context, error.problem) if p) or str(error)
        raise ScenarioError(path, [Problem(path, line, column, "", f"not valid YAML: {problem}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError(path, [Problem(path, None, None, "", f"not valid YAML: {error}")]) from None
    if node is not None:
        marks.walk(node)
    return _plain(data), marks
