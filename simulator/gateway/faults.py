"""Fault injection at the gateway: apply the engine's decision before the view runs (nothing
is committed) or after it (committed, and the answer is lost), down to the socket.

Injected responses carry `x-sandbox-fault: <rule id>`; the journal records the rule.
"""

from __future__ import annotations

import logging
import socket
import struct
from http import HTTPStatus
from typing import TYPE_CHECKING, overload

from flask import Response

from pismo_sandbox import turns
from pismo_sandbox.contract import ADMIN, Contract, Operation
from pismo_sandbox.faults.engine import Decision, RequestFacts, delay_for
from pismo_sandbox.faults.rules import Action, FaultRule, Match, Schedule
from pismo_sandbox.request_context import current
from pismo_sandbox.responses import json_response

if TYPE_CHECKING:
    from flask import Request

    from pismo_sandbox.core import SandboxCore
    from pismo_sandbox.tokens import Principal

HEADER = "x-sandbox-fault"
log = logging.getLogger("pismo_sandbox")


def decide(
    services: SandboxCore, request: Request, op: Operation | None, principal: Principal | None
) -> Decision | None:
    """The fault for this request, if any: a header trigger (when enabled) or a stored rule."""
    if op is None or op.auth == ADMIN:
        return None  # the control plane is never faulted
    if services.config.fault_header_enabled and request.headers.get(HEADER):
        return _from_header(request.headers[HEADER])
    return services.faults.decide(
        RequestFacts(
            operation_id=op.operation_id,
            method=request.method,
            path=request.path,
            tenant_id=principal.tenant_id if principal else None,
            account_id=principal.account_id if principal else None,
        )
    )


@overload
def apply(
    decision: Decision, phase: str, contract: Contract, op: Operation, request: Request, response: Response
) -> Response: ...
@overload
def apply(
    decision: Decision, phase: str, contract: Contract, op: Operation, request: Request, response: None = None
) -> Response | None: ...
def apply(
    decision: Decision,
    phase: str,
    contract: Contract,
    op: Operation,
    request: Request,
    response: Response | None = None,
) -> Response | None:
    """Carry out the decision at this phase; a Response replaces the real one, None lets it be."""
    if decision.rule.phase != phase:
        return response if phase == "after" else None
    current().fault_rule = decision.rule_id
    action = decision.rule.action
    if action.type == "delay":
        turns.pause(decision.delay_ms / 1000)  # no transaction is open here: nothing is locked
        return response if phase == "after" else None
    if action.type == "timeout":
        turns.pause(decision.delay_ms / 1000)  # another operation has the turn meanwhile
        return _tagged(fault_response(contract, op, 504, None), decision)
    if action.type == "status":
        assert action.status is not None  # a status action always names its status
        return _tagged(fault_response(contract, op, action.status, action.body), decision)
    return _tagged(_socket_fault(action.type, request.environ, decision), decision)


def fault_response(contract: Contract, op: Operation, status: int, body: dict | None) -> Response:
    """The body the operation documents for this status, else a gateway-style one."""
    if body is None:
        body = contract.documented_example(op, status) or {
            "code": f"GATEWAY_{status}",
            "message": _phrase(status),
            "details": "injected by pismo-sandbox (the operation documents no body for this status)",
        }
    return json_response(body, status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _tagged(response: Response, decision: Decision) -> Response:
    response.headers[HEADER] = decision.rule_id
    current().fault_injected = True
    return response


def _socket_fault(kind: str, environ: dict, decision: Decision) -> Response:
    """reset: RST; empty: close without a byte; malformed: bytes that are not HTTP, then close."""
    sock: socket.socket | None = environ.get("gunicorn.socket")
    if sock is None:
        return json_response(
            {
                "code": "SANDBOX_SOCKET_FAULT",
                "message": f"{kind} fault",
                "details": "this server gives no access to the socket; answered 502 instead",
            },
            502,
        )
    try:
        if kind == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        else:
            if kind == "malformed":
                sock.sendall(
                    b"HTTP/1.1 2OO NOT-HTTP\r\n"
                    + f"{HEADER}: {decision.rule_id}\r\n".encode()
                    + b'Content-Length: 9999\r\n\r\n{"truncated": '
                )
            sock.shutdown(socket.SHUT_WR)  # FIN; closing the read side too would send RST
    except OSError as error:  # the client may already be gone
        log.debug("socket fault %s: %s", kind, error)
    return Response(b"", status=502)  # never reaches the client: the connection is gone


class SocketFaultNoise(logging.Filter):
    """gunicorn logs the failed write that follows a deliberate reset; drop that one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Socket error processing request") and record.exc_info:
            error = record.exc_info[1]
            return not (isinstance(error, OSError) and error.errno == 9)  # EBADF
        return True


def _from_header(value: str) -> Decision:
    """`x-sandbox-fault: 504;phase=after`, `delay=300`, `timeout=2000`, `reset`, `empty`, `malformed`."""
    head, *params = [part.strip() for part in value.split(";") if part.strip()]
    options = dict(p.split("=", 1) for p in params if "=" in p)
    phase = options.get("phase", "before") if options.get("phase") in ("before", "after") else "before"
    if head.isdigit() and 400 <= int(head) <= 599:
        action = Action(type="status", status=int(head))
    elif head.startswith(("delay=", "timeout=")):
        kind, ms = head.split("=", 1)
        action = Action(type=kind, ms=int(ms) if ms.isdigit() else 0)
    elif head in ("reset", "empty", "malformed"):
        action = Action(type=head)
    else:
        action = Action(type="status", status=502)
    rule = FaultRule(match=Match(), action=action, phase=phase, schedule=Schedule())
    return Decision("header", rule, 1, delay_for(action, 0, 1))
