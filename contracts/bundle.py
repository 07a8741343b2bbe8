"""The contract bundle: which OpenAPI documents ship (their sources), how each is read and
repaired by its overlay, and the documents exactly as the sandbox serves and validates them.

Vendor documents are kept byte-for-byte as Pismo published them; repairs are JSON Patch
overlays applied at load time (each names its entry in contracts/openapi/ERRATA.md).
This module reads the files next to it and depends on nothing else in the package: the
simulator imports the bundle, never the other way round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import jsonpatch
import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# libyaml's parser where PyYAML was built with it (its wheels are): the same safe constructor,
# several times faster at start-up.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Who may call an operation: a Pismo token ("token"), nobody in particular ("none": server
# login), or the operator of the sandbox ("admin").
TOKEN, NONE, ADMIN = "token", "none", "admin"


@dataclass(frozen=True)
class SpecSource:
    name: str
    filename: str
    overlay: str | None = None
    vendor: bool = False
    auth: str = TOKEN


SOURCES: tuple[SpecSource, ...] = (
    SpecSource("banking-auth", "banking-auth.v1.json", "banking-auth.v1.overlay.yaml", vendor=True),
    SpecSource("intl-bankaccounts", "intl-bankaccounts.v2.json", "intl-bankaccounts.v2.overlay.yaml", vendor=True),
    SpecSource(
        "integrated-payments", "integrated-payments.v1.json", "integrated-payments.v1.overlay.yaml", vendor=True
    ),
    SpecSource("passport", "passport.yaml", auth=NONE),
    SpecSource("sandbox-admin", "sandbox-admin.yaml", auth=ADMIN),
    SpecSource("intl-bankaccounts-read", "intl-bankaccounts-read.yaml"),
    SpecSource("integrated-payments-validate", "integrated-payments-validate.yaml"),
    SpecSource("integrated-payments-receipts", "integrated-payments-receipts.yaml"),
    SpecSource("sandbox-admin-bankslips", "sandbox-admin-bankslips.yaml", auth=ADMIN),
    SpecSource("sandbox-admin-deliveries", "sandbox-admin-deliveries.yaml", auth=ADMIN),
    SpecSource("sandbox-sns", "sandbox-sns.yaml", auth=ADMIN),
)


def spec_dir() -> Traversable:
    return resources.files("pismo_sandbox.contracts") / "openapi"


def read_text(filename: str) -> str:
    return (spec_dir() / filename).read_text(encoding="utf-8")


def parse_document(filename: str, text: str) -> dict:
    if filename.endswith(".json"):
        # ERRATA E-01: seed 003 has a raw newline inside a JSON string; strict=False accepts it.
        return json.loads(text, strict=False)
    return yaml.load(text, Loader=SAFE_LOADER)


def load_overlay(filename: str) -> list[dict]:
    """The overlay's JSON Patch operations, without their bookkeeping keys."""
    overlay = yaml.load(read_text(filename), Loader=SAFE_LOADER) or {}
    return [{k: v for k, v in patch.items() if k not in {"erratum", "why"}} for patch in overlay.get("patches", [])]


def load_document(source: SpecSource) -> dict:
    """The document as served: published text, parsed, with its overlay applied."""
    document = parse_document(source.filename, read_text(source.filename))
    if source.overlay:
        document = jsonpatch.apply_patch(document, load_overlay(source.overlay))
    return with_int64_integers(document)


def with_int64_integers(node: Any) -> Any:
    """ERRATA E-14: every integer the documents leave unbounded is a 64-bit one (``format: int64``,
    as Pismo's ids and SQLite's integers are), so that clients, validators and the contract
    harness all know that 10**30 is not a valid account id."""
    if isinstance(node, list):
        return [with_int64_integers(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: with_int64_integers(value) for key, value in node.items()}
    kinds = out.get("type")
    if (kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds)) and "format" not in out:
        out["format"] = "int64"
    return out
