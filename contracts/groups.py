"""The documents under test: the selected sources loaded as served, merged by base path into
one document per group, with the harness's OpenAPI links added to the copy under test."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Iterable

import yaml

from pismo_sandbox.contracts.bundle import ADMIN, SOURCES, TOKEN, SpecSource, load_document, read_text
from pismo_sandbox.contracts.results import HarnessError


_COMPONENT_SECTIONS = (
    "schemas",
    "parameters",
    "responses",
    "headers",
    "examples",
    "requestBodies",
    "securitySchemes",
    "links",
    "callbacks",
    "pathItems",
)
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass
class SpecGroup:
    """One document under test: the specs sharing a base path, merged, with their links."""

    name: str
    sources: list[SpecSource]
    base_path: str
    document: dict
    links: list[str] = field(default_factory=list)
    links_skipped: list[str] = field(default_factory=list)
    duration: float = 0.0
    settings: list[str] = field(default_factory=list)  # labels of OPERATION_SETTINGS applied

    @property
    def auth(self) -> str:
        kinds = {source.auth for source in self.sources}
        return kinds.pop() if len(kinds) == 1 else TOKEN

    @property
    def operation_ids(self) -> set[str]:
        return {
            op["operationId"]
            for item in self.document.get("paths", {}).values()
            for method, op in item.items()
            if method in _METHODS and "operationId" in op
        }


def base_path(document: dict) -> str:
    url = (document.get("servers") or [{"url": "/"}])[0].get("url") or "/"
    if "://" in url:
        rest = url.split("://", 1)[1]
        url = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return url.rstrip("/")


def select_sources(names: Iterable[str] | None, remote: bool) -> list[SpecSource]:
    """The sources to test, admin API last. Default: everything on the simulator, and every Pismo
    API (not the sandbox's own admin API, which Pismo does not have) against a base URL."""
    by_name = {source.name: source for source in SOURCES}
    if names:
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise HarnessError(f"unknown spec {', '.join(unknown)}; known: {', '.join(by_name)}")
        chosen = [by_name[name] for name in dict.fromkeys(names)]
    else:
        chosen = [s for s in SOURCES if not (remote and s.auth == ADMIN)]
    return sorted(chosen, key=lambda s: s.auth == ADMIN)


def build_groups(sources: list[SpecSource], base_url: str | None = None) -> list[SpecGroup]:
    """Served documents, merged by base path, with links, servers pointed at the target."""
    grouped: dict[str, list[tuple[SpecSource, dict]]] = {}
    for source in sources:
        document = load_document(source)
        grouped.setdefault(base_path(document), []).append((source, document))
    links = load_links()
    groups = []
    for path, members in grouped.items():
        # The vendor document (if any) leads: its title, info and component names are kept.
        members.sort(key=lambda member: not member[0].vendor)
        document = merge_documents([document for _, document in members], [s.name for s, _ in members])
        document["servers"] = [{"url": (base_url.rstrip("/") if base_url else "") + path or "/"}]
        group = SpecGroup(name=members[0][0].name, sources=[s for s, _ in members], base_path=path, document=document)
        apply_links(group, links)
        groups.append(group)
    return groups


def merge_documents(documents: list[dict], names: list[str]) -> dict:
    """One OpenAPI document from several: paths united, components renamed on collision, and
    document-level ``security`` and ``x-sandbox-errors`` pushed down into each operation (they
    differ per source document, and the custom checks read them per operation)."""
    merged = _push_down(copy.deepcopy(documents[0]))
    for document, name in zip(documents[1:], names[1:]):
        document = _push_down(copy.deepcopy(document))
        renames: dict[str, str] = {}
        for section in _COMPONENT_SECTIONS:
            theirs = (document.get("components") or {}).get(section) or {}
            ours = merged.setdefault("components", {}).setdefault(section, {})
            for key, value in theirs.items():
                if key in ours and ours[key] != value:
                    new = f"{key}.{name}"
                    renames[f"#/components/{section}/{key}"] = f"#/components/{section}/{new}"
        document = _rename_refs(document, renames)
        for section in _COMPONENT_SECTIONS:
            theirs = (document.get("components") or {}).get(section) or {}
            ours = merged["components"].setdefault(section, {})
            for key, value in theirs.items():
                ours.setdefault(key, value)
        for path, item in (document.get("paths") or {}).items():
            target = merged.setdefault("paths", {}).setdefault(path, {})
            for key, value in item.items():
                if key in target and key in _METHODS:
                    raise HarnessError(f"{key.upper()} {path} is defined twice ({name})")
                target.setdefault(key, value)
        merged.setdefault("tags", [])
        for tag in document.get("tags") or []:
            if tag not in merged["tags"]:
                merged["tags"].append(tag)
    merged["components"] = {k: v for k, v in merged.get("components", {}).items() if v}
    return merged


def _push_down(document: dict) -> dict:
    security = document.pop("security", None)
    errors = document.pop("x-sandbox-errors", None)
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            if security is not None:
                operation.setdefault("security", security)
            if errors:
                operation["x-sandbox-errors"] = {**errors, **operation.get("x-sandbox-errors", {})}
    return document


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            elif key == "security" and isinstance(value, list):  # requirements name schemes, not $refs
                out[key] = [
                    {_renamed_key("securitySchemes", name, renames): scopes for name, scopes in requirement.items()}
                    for requirement in value
                ]
            elif key == "components" and isinstance(value, dict):
                out[key] = {
                    section: {
                        _renamed_key(section, name, renames): _rename_refs(v, renames)
                        for name, v in (items or {}).items()
                    }
                    for section, items in value.items()
                }
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _renamed_key(section: str, name: str, renames: dict[str, str]) -> str:
    new = renames.get(f"#/components/{section}/{name}")
    return new.rsplit("/", 1)[1] if new else name


def load_links() -> list[dict]:
    """The harness's OpenAPI links (contracts/openapi/links.yaml)."""
    return (yaml.safe_load(read_text("links.yaml")) or {}).get("links", [])


def apply_links(group: SpecGroup, links: list[dict]) -> None:
    """Add each link whose two operations are in this document; record the others as skipped
    (an operation not bundled yet, or in another document)."""
    operations = {}
    for item in group.document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = operation
    for link in links:
        source, target = link["from"], link["to"]
        if source not in operations and target not in operations:
            continue
        if source not in operations or target not in operations:
            group.links_skipped.append(f"{link['name']} ({source if source not in operations else target} not bundled)")
            continue
        responses = operations[source].setdefault("responses", {})
        status = str(link["status"])
        if status not in responses:
            group.links_skipped.append(f"{link['name']} ({source} declares no {status})")
            continue
        response = responses[status]
        if "$ref" in response:  # a shared response: link this operation's copy only
            response = responses[status] = copy.deepcopy(_resolve(group.document, response))
        definition = {"operationId": target}
        for key in ("parameters", "requestBody", "description"):
            if key in link:
                definition[key] = copy.deepcopy(link[key])
        response.setdefault("links", {})[link["name"]] = definition
        group.links.append(link["name"])


def _resolve(document: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node
