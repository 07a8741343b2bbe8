"""The contract bundle: which OpenAPI documents ship (their sources), how each is read and
repaired by its overlay, and the documents exactly as the sandbox serves and validates them.

Vendor documents are kept byte-for-byte as Pismo published them; repairs are JSON Patch
overlays applied at load time (each names its entry in contracts/openapi/ERRATA.md).
This module reads the files next to it and depends on nothing else in the package but its
document cache (``document_cache``): the simulator imports the bundle, never the other way round.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import jsonpatch
import yaml

from pismo_sandbox.contracts import document_cache

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


def _text(data: bytes) -> str:
    """The file's bytes as ``read_text`` reads them (UTF-8, universal newlines)."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def parse_document(filename: str, text: str) -> dict:
    if filename.endswith(".json"):
        # ERRATA E-01: seed 003 has a raw newline inside a JSON string; strict=False accepts it.
        return json.loads(text, strict=False)
    return yaml.load(text, Loader=SAFE_LOADER)


def load_overlay(filename: str) -> list[dict]:
    """The overlay's JSON Patch operations, without their bookkeeping keys."""
    return _overlay_patches(read_text(filename))


def _overlay_patches(text: str) -> list[dict]:
    overlay = yaml.load(text, Loader=SAFE_LOADER) or {}
    return [{k: v for k, v in patch.items() if k not in {"erratum", "why"}} for patch in overlay.get("patches", [])]


def load_document(source: SpecSource) -> dict:
    """The document as served: published text, parsed, with its overlay applied (read from the
    document cache when these very files were built before; a fresh object on every call)."""
    published = (spec_dir() / source.filename).read_bytes()
    overlay = (spec_dir() / source.overlay).read_bytes() if source.overlay else b""
    transforms = _transform_inputs()
    if transforms is None:
        return build_document(source, published, overlay)
    return document_cache.cached_document(
        source.name,
        (*transforms, repr(source).encode(), published, overlay),
        lambda: build_document(source, published, overlay),
    )


def build_document(source: SpecSource, published: bytes, overlay: bytes) -> dict:
    """The document as served, from the published file's and the overlay's bytes."""
    document = parse_document(source.filename, _text(published))
    if source.overlay:
        document = jsonpatch.apply_patch(document, _overlay_patches(_text(overlay)))
    return with_int64_integers(document)


@functools.cache
def _transform_inputs() -> tuple[bytes, ...] | None:
    """What, besides the files, decides a served document: the code of this module (its
    transforms) and of the cache, and the versions of the parsers and of the patch library.
    None when the code cannot be read (an install without sources): nothing is then cached."""
    here = resources.files("pismo_sandbox.contracts")
    try:
        code = ((here / "bundle.py").read_bytes(), (here / "document_cache.py").read_bytes())
    except OSError:
        return None
    return (*code, f"{yaml.__version__} {SAFE_LOADER.__name__} {jsonpatch.__version__}".encode())


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
