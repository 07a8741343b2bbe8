"""Handlers of the served OpenAPI documents (GET /_sandbox/openapi[/{name}]): what the sandbox
enforces, readable by tools. Documents come from the contract loaded at start-up, so what is
served is exactly what requests and responses are validated against."""

from __future__ import annotations

from pismo_sandbox.contracts.bundle import METHODS, SOURCES
from pismo_sandbox.errors import NotFound
from pismo_sandbox.handlers import Reply, ok, operation
from pismo_sandbox.request_context import RequestContext


def _base_path(document: dict) -> str:
    url = (document.get("servers") or [{"url": "/"}])[0].get("url") or "/"
    if "://" in url:
        rest = url.split("://", 1)[1]
        url = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    return url.rstrip("/") or "/"


@operation("sandbox-list-documents")
def list_documents(ctx: RequestContext) -> Reply:
    documents = ctx.sandbox.contract.documents
    items = []
    for source in SOURCES:
        document = documents[source.name]
        info = document.get("info") or {}
        items.append(
            {
                "name": source.name,
                "title": str(info.get("title", source.name)),
                "version": str(info.get("version", "")),
                "base_path": _base_path(document),
                "authored_by": "pismo" if source.vendor else "sandbox",
                "overlay": source.overlay,
                "url": f"/_sandbox/openapi/{source.name}",
                "operations": [
                    operation["operationId"]
                    for item in (document.get("paths") or {}).values()
                    for method, operation in item.items()
                    if method in METHODS and isinstance(operation, dict) and "operationId" in operation
                ],
            }
        )
    return ok({"items": items})


@operation("sandbox-get-document")
def get_document(ctx: RequestContext) -> Reply:
    name = ctx.path["name"]
    document = ctx.sandbox.contract.documents.get(name)
    if document is None:
        raise NotFound(details=f"no document is called {name!r}; GET /_sandbox/openapi lists them")
    return ok(document)
