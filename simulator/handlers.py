"""The operation as the unit: handlers registered by operationId, the one way their results
become responses, and the Flask rules built from the bundled specs.

A handler is ``def handler(ctx: RequestContext) -> Reply``: it reads its validated inputs
(``ctx.path``, ``ctx.query``, ``ctx.headers``, ``ctx.body``), the caller (``ctx.principal``)
and the container (``ctx.sandbox``), calls a service, and returns a ``Reply``. Only
``render`` turns a Reply into a response. ``mount`` gives every operation of every
bundled document one URL rule: the spec's path under the document's base path, named by the
operationId (docs/operations.md walks through adding one). The rule routes Flask's requests to
the handler; pismo_sandbox.dispatch uses the same rules to call it without Flask's request
machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, Response

from pismo_sandbox.request_context import RequestContext, current
from pismo_sandbox.responses import Answer, bodiless, json_response

if TYPE_CHECKING:
    from pismo_sandbox.contract import Contract


@dataclass(frozen=True)
class Reply:
    """What an operation answers: a JSON value (None: no content) and a status, or a body that
    is already encoded (a stored idempotent answer, a certificate) with its media type."""

    body: Any = None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    raw: bytes | str | None = None
    mimetype: str = "application/json"


def ok(body: Any) -> Reply:
    return Reply(body, 200)


def created(body: Any) -> Reply:
    return Reply(body, 201)


def no_content(status: int = 204) -> Reply:
    return Reply(None, status)


Handler = Callable[[RequestContext], Reply]
HANDLERS: dict[str, Handler] = {}


def operation(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``operation_id`` (one per operation)."""

    def register(handler: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(
                f"{operation_id} already has a handler "
                f"({HANDLERS[operation_id].__module__}.{HANDLERS[operation_id].__qualname__})"
            )
        HANDLERS[operation_id] = handler
        return handler

    return register


def render(reply: Reply) -> Response:
    """The one place a handler's Reply becomes an HTTP response."""
    response: Response
    if reply.raw is not None:
        response = Answer(reply.raw, status=reply.status, mimetype=reply.mimetype)
    elif reply.body is None:
        response = bodiless(reply.status)
    else:
        response = json_response(reply.body, reply.status)
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


def _view(handler: Handler) -> Callable[..., Response]:
    def view(**_path: str) -> Response:  # the path parameters come validated, in the context
        return render(handler(current()))

    view.__name__ = view.__qualname__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def unhandled(contract: "Contract", handlers: Mapping[str, Handler] = HANDLERS) -> list[str]:
    """The operations of the bundle that no handler serves."""
    return sorted(set(contract.by_id) - set(handlers))


def mount(app: Flask, contract: "Contract", handlers: Mapping[str, Handler] = HANDLERS) -> None:
    """One URL rule per bundled operation, named by its operationId; an operation without a
    handler, or a handler without an operation, stops the app from being built."""
    missing, stray = unhandled(contract, handlers), sorted(set(handlers) - set(contract.by_id))
    if missing or stray:
        raise LookupError(
            f"operations without a handler: {missing or 'none'}; handlers of no bundled operation: {stray or 'none'}"
        )
    for op in contract.by_id.values():
        app.add_url_rule(
            op.flask_rule, endpoint=op.operation_id, view_func=_view(handlers[op.operation_id]), methods=[op.method]
        )
