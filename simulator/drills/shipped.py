"""The drills shipped with the package (pismo_sandbox.scenarios): list them, and turn the
arguments of `pismo-sandbox drill` (file paths or shipped drill names) into scenario files."""

from __future__ import annotations

import difflib
import os
from importlib import resources

SUFFIXES = (".yaml", ".yml")


class UnknownDrill(ValueError):
    """An argument that is neither a scenario file nor the name of a shipped drill."""


def shipped() -> dict[str, str]:
    """Name -> path of every shipped scenario file, by name."""
    folder = resources.files("pismo_sandbox.scenarios")
    found = {}
    for entry in folder.iterdir():
        if entry.name.endswith(SUFFIXES) and entry.is_file():
            found[entry.name.rsplit(".", 1)[0]] = str(entry)
    return dict(sorted(found.items()))


def describe(path: str) -> str:
    """The first sentence of a scenario's description (for --list)."""
    from pismo_sandbox.drills.scenario import load_scenario

    text = " ".join(load_scenario(path).description.split())
    return text.split(". ")[0].rstrip(".") + "."


def resolve(arguments: tuple[str, ...] | list[str]) -> list[str]:
    """Scenario files for ``arguments``: an existing file is itself, anything else a shipped
    drill's name; no arguments: every shipped drill."""
    known = shipped()
    if not arguments:
        return list(known.values())
    files, unknown = [], []
    for argument in arguments:
        if os.path.isfile(argument):
            files.append(argument)
        elif argument in known:
            files.append(known[argument])
        else:
            close = difflib.get_close_matches(argument.rsplit("/", 1)[-1].removesuffix(".yaml"), known, n=1)
            unknown.append(
                f"{argument}: no such file, and no shipped drill of that name"
                + (f" (did you mean {close[0]!r}?)" if close else "; see `pismo-sandbox drill --list`")
            )
    if unknown:
        raise UnknownDrill("\n".join(unknown))
    return files
