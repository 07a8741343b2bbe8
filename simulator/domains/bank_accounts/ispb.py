"""The Brazilian institutions a bank account may name: the bundled ISPB list
(``simulator/data/ispb.csv``, provenance in ``ISPB-SOURCE.md``), read once per process."""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Institution:
    ispb: str  # 8 digits: the institution's id in the Brazilian payment system (SPB)
    compe: str  # 3 digits: the older clearing-house bank code
    short_name: str


@functools.lru_cache(maxsize=1)
def institutions() -> dict[str, Institution]:
    """Every bundled institution, by ISPB."""
    text = (resources.files("pismo_sandbox") / "data" / "ispb.csv").read_text(encoding="utf-8")
    return {
        row["ISPB"]: Institution(row["ISPB"], row["COMPE"], row["ShortName"])
        for row in csv.DictReader(io.StringIO(text))
    }


def lookup(ispb: str) -> Institution | None:
    return institutions().get(ispb)
