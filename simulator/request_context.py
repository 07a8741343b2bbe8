"""What the gateway learned about one request, as one typed object: the operation, the caller,
the tracking id, the validated inputs, the fault decision and the verdict the journal records.

The gateway creates it first thing on the way in; handlers receive it, and everything else in
the request path (error handlers, fault injection, the journal) reaches it through ``current()``.
It lives in a context variable, not in Flask's ``g``: an operation's request is dispatched
without Flask's request machinery (pismo_sandbox.dispatch).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Request

    from pismo_sandbox.contract import CheckedRequest, Operation
    from pismo_sandbox.errors import SandboxError
    from pismo_sandbox.faults.engine import Decision
    from pismo_sandbox.core import SandboxCore
    from pismo_sandbox.tokens import Principal

_EMPTY: dict = {}


@dataclass(eq=False)
class RequestContext:
    sandbox: "SandboxCore"  # the running app's container
    started: float  # time.perf_counter() when the request came in
    request: "Request | None" = None  # the HTTP request (werkzeug's, or Flask's subclass)
    cid: str = ""  # the tracking id (x-cid)
    operation: "Operation | None" = None  # None: no documented operation matched
    principal: "Principal | None" = None  # who called (None: nobody needed, or refused)
    checked: "CheckedRequest | None" = None  # the inputs that passed validation
    fault: "Decision | None" = None  # the fault rule that matched, if any
    fault_rule: str | None = None  # the id of the rule that acted (journal)
    fault_injected: bool = False  # a fault answered in place of the operation
    gateway_answered: bool = False  # the gateway answered (busy writer lock)
    verdict: str = "not_validated"  # what the journal records
    detail: str | None = None  # why, in words
    error: "SandboxError | None" = None  # the error the request was answered with
    unjournaled: bool = False  # the dashboard's own traffic stays out of the journal
    _token: "Token[RequestContext] | None" = field(default=None, repr=False)  # what `end` resets

    @property
    def caller(self) -> "Principal":
        """Who called an operation that needs a token (the gateway refused the request otherwise)."""
        if self.principal is None:
            raise RuntimeError("no caller: the gateway authenticates an operation before its handler runs")
        return self.principal

    # -- the validated inputs ---------------------------------------------------------------
    @property
    def path(self) -> dict:
        return self.checked.path if self.checked is not None else _EMPTY

    @property
    def query(self) -> dict:
        return self.checked.query if self.checked is not None else _EMPTY

    @property
    def headers(self) -> dict:
        return self.checked.header if self.checked is not None else _EMPTY

    @property
    def body(self) -> Any:
        return self.checked.body if self.checked is not None else None

    @property
    def host_url(self) -> str:
        """Where this request reached the sandbox, e.g. http://127.0.0.1:8080/."""
        if self.request is None:
            raise RuntimeError("no HTTP request: the gateway records it first thing")
        return self.request.host_url


_CURRENT: ContextVar[RequestContext] = ContextVar("pismo_request")


def begin(sandbox: "SandboxCore", started: float, request: "Request") -> RequestContext:
    """A fresh context for the request being served (the gateway's first step)."""
    context = RequestContext(sandbox=sandbox, started=started, request=request)
    context._token = _CURRENT.set(context)
    return context


def end(context: RequestContext) -> None:
    """The request is answered: its context is no longer current (whatever was, is again)."""
    if context._token is not None:
        _CURRENT.reset(context._token)
        context._token = None


def current() -> RequestContext:
    """The context of the request being served."""
    return _CURRENT.get()
