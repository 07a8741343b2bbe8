"""What a request answers when the store's writer lock cannot be had in time (another writer
stopped or stuck): the operation's documented 503, else its documented 504, else a gateway 503
(``GATEWAY_503``). Nothing was written; the client may retry. Never a hang."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify

from pismo_sandbox.request_context import current

from pismo_sandbox.store import WriterLockTimeout

if TYPE_CHECKING:
    from pismo_sandbox.core import SandboxCore


def install(app: Flask, services: SandboxCore) -> None:
    contract = services.contract

    @app.errorhandler(WriterLockTimeout)
    def _writer_busy(error: WriterLockTimeout) -> Response:
        state = current()
        op = state.operation
        declared = op.declared_statuses if op is not None else frozenset()
        status = 504 if "504" in declared and "503" not in declared else 503
        body = contract.documented_example(op, status) if op is not None else None
        if body is None:
            body = {"code": f"GATEWAY_{status}", "message": "Service Unavailable",
                    "details": f"{error}; nothing was written, retry"}
        state.gateway_answered = True  # the gateway answered: the operation's contract does not apply
        state.detail = str(error)
        response = jsonify(body)
        response.status_code = status
        response.headers["Retry-After"] = "1"
        return response
