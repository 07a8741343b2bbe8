"""The one error type, and the one place that turns errors into HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from pismo_sandbox.request_context import current

log = logging.getLogger("pismo_sandbox")


class SandboxError(Exception):
    """An error with a documented code, HTTP status and the {code, message, details} envelope.

    Domain packages subclass it to set defaults; anything raised deep in a service reaches the
    client through :func:`register_error_handlers`, never as a stack trace.
    """

    status: int = 400
    code: str = "SANDBOX_ERROR"
    message: str = "Error"

    def __init__(self, code: str | None = None, message: str | None = None, *,
                 status: int | None = None, details: str | None = None,
                 headers: dict[str, str] | None = None):
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
    response = jsonify(error.body())
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Map SandboxError, HTTP errors and unexpected exceptions to JSON envelopes."""

    @app.errorhandler(SandboxError)
    def _sandbox_error(error: SandboxError) -> Response:
        current().error = error  # the journal records why a request was refused
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = {
            404: "SANDBOX_ROUTE_NOT_FOUND",
            405: "SANDBOX_METHOD_NOT_ALLOWED",
            413: "PAYLOAD_TOO_LARGE",
        }.get(error.code or 500, f"HTTP_{error.code}")
        # RFC 9110: a 405 names the methods the resource allows (werkzeug computes the header).
        allow = {name: value for name, value in error.get_headers() if name.lower() == "allow"}
        return error_response(SandboxError(code, error.name, status=error.code or 500,
                                           details=error.description, headers=allow))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error: this is a simulator bug")
        return error_response(SandboxError(
            "SANDBOX_INTERNAL_ERROR", "Internal simulator error", status=500,
            details=f"{type(error).__name__}; see the simulator log"))
