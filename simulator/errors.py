"""The one error type, and the one place that turns errors into HTTP responses (``answer``: used
by the operation dispatcher and, through ``register_error_handlers``, by Flask)."""

from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from pismo_sandbox.request_context import current
from pismo_sandbox.responses import json_response
from pismo_sandbox.store import WriterLockTimeout

log = logging.getLogger("pismo_sandbox")


class SandboxError(Exception):
    """An error with a documented code, HTTP status and the {code, message, details} envelope.

    Domain packages subclass it to set defaults; anything raised deep in a service reaches the
    client through :func:`answer`, never as a stack trace.
    """

    status: int = 400
    code: str = "SANDBOX_ERROR"
    message: str = "Error"

    def __init__(
        self,
        code: str | None = None,
        message: str | None = None,
        *,
        status: int | None = None,
        details: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.code = code or self.code
        self.message = message or self.message
        self.status = status or self.status
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class NotFound(SandboxError):
    status, code, message = 404, "SANDBOX_NOT_FOUND", "Not found"


class Conflict(SandboxError):
    status, code, message = 409, "SANDBOX_CONFLICT", "Conflict"


class Unauthorized(SandboxError):
    status, code, message = 401, "UNAUTHORIZED", "Unauthorized"


def error_response(error: SandboxError) -> Response:
    response = json_response(error.body(), error.status)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


_HTTP_CODES = {404: "SANDBOX_ROUTE_NOT_FOUND", 405: "SANDBOX_METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def answer(error: Exception) -> Response:
    """The response to an error raised while a request was served."""
    if isinstance(error, SandboxError):
        current().error = error  # the journal records why a request was refused
        return error_response(error)
    if isinstance(error, WriterLockTimeout):
        return _writer_busy(error)
    if isinstance(error, HTTPException):
        code = _HTTP_CODES.get(error.code or 500, f"HTTP_{error.code}")
        # RFC 9110: a 405 names the methods the resource allows (werkzeug computes the header).
        allow = {name: value for name, value in error.get_headers() if name.lower() == "allow"}
        return error_response(
            SandboxError(code, error.name, status=error.code or 500, details=error.description, headers=allow)
        )
    log.exception("unhandled error: this is a simulator bug", exc_info=error)
    return error_response(
        SandboxError(
            "SANDBOX_INTERNAL_ERROR",
            "Internal simulator error",
            status=500,
            details=f"{type(error).__name__}; see the simulator log",
        )
    )


def _writer_busy(error: WriterLockTimeout) -> Response:
    """What a request answers when the store's writer lock cannot be had in time (another writer
    stopped or stuck): the operation's documented 503, else its documented 504, else a gateway
    503 (``GATEWAY_503``). Nothing was written; the client may retry. Never a hang."""
    state = current()
    op = state.operation
    declared = op.declared_statuses if op is not None else frozenset()
    status = 504 if "504" in declared and "503" not in declared else 503
    body = state.sandbox.contract.documented_example(op, status) if op is not None else None
    if body is None:
        body = {
            "code": f"GATEWAY_{status}",
            "message": "Service Unavailable",
            "details": f"{error}; nothing was written, retry",
        }
    state.gateway_answered = True  # the gateway answered: the operation's contract does not apply
    state.detail = str(error)
    response = json_response(body, status)
    response.headers["Retry-After"] = "1"
    return response


def register_error_handlers(app: Flask) -> None:
    """Flask's routes (the dashboard, unknown paths) answer errors as the operations do."""
    app.register_error_handler(Exception, answer)
