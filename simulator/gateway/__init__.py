"""What Pismo's API gateway does in front of every service: the way in and the way out of a
request, for the operation dispatcher (pismo_sandbox.dispatch) and, as Flask request hooks, for
Flask's own routes (the dashboard, unknown paths, OPTIONS and HEAD).

Order on the way in: tracking id, Host and Origin (every path), body-size limit,
authentication, JSON-only POST, request validation.
On the way out: response validation, x-cid, journal. It knows no domain.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from flask import Flask, Response, request

from pismo_sandbox.contract import Contract, Operation
from pismo_sandbox.errors import SandboxError, error_response
from pismo_sandbox.gateway import auth, faults, header_rules, journal, limits, origin, tracking
from pismo_sandbox.request_context import RequestContext, begin, current, end
from pismo_sandbox.core import SandboxCore

if TYPE_CHECKING:
    from flask import Request

log = logging.getLogger("pismo_sandbox")


class Gateway:
    """The gateway's steps, free of how the request reached them."""

    def __init__(self, sandbox: SandboxCore):
        self.sandbox = sandbox
        self.contract = sandbox.contract
        self.site = origin.SitePolicy.from_config(sandbox.config)

    def begin(self, req: Request) -> RequestContext:
        """The request's context, current from now until ``finish``."""
        state = begin(self.sandbox, time.perf_counter(), req)
        self.sandbox.settings.pin()  # one read of clock state and cache versions per request
        return state

    def enter(self, state: RequestContext, req: Request, op: Operation | None, rule: str | None) -> Response | None:
        """The way in: a Response when the gateway answers in the operation's place (an injected
        fault, an OPTIONS answer), None to go on to the operation; raises what it refuses."""
        state.cid = tracking.cid_for(req, self.sandbox.ids)
        refused = origin.refusal(req, self.site)
        if refused is not None:
            state.verdict = "request_rejected"
            raise refused
        header_rules.check(req.environ)  # a gateway answer, before any operation (ERRATA S-15)
        state.operation = op
        if op is None:
            if rule is not None:  # a route the contract does not describe is guarded all the same
                state.verdict = "request_rejected"
                origin.require_json(req, None)
                state.verdict = "not_validated"
            return _options(self.contract, rule) if req.method == "OPTIONS" and rule else None
        state.verdict = "request_rejected"
        limits.check_body_size(req, op, self.sandbox.config.max_body_bytes)
        state.principal = auth.authenticate(req, op, self.sandbox)
        origin.require_json(req, op)
        state.fault = faults.decide(self.sandbox, req, op, state.principal)
        if state.fault is not None:
            injected = faults.apply(state.fault, "before", self.contract, op, req)
            if injected is not None:
                state.verdict = "fault_injected"
                return injected
        state.checked = self.contract.check_request(op, req)
        state.verdict = "ok"
        return None

    def leave(self, state: RequestContext, req: Request, response: Response) -> Response:
        """The way out: the response checked against the contract, an after-fault, x-cid and
        the journal."""
        op = state.operation
        injected = state.fault_injected or state.gateway_answered
        if op is not None and not injected:
            problems = self.contract.check_response(op, req, response)
            if problems:
                detail = "; ".join(problems)
                log.error(
                    "response breaks the contract of %s (%s %s -> %s): %s",
                    op.operation_id,
                    req.method,
                    req.path,
                    response.status_code,
                    detail,
                )
                state.verdict, state.detail = "response_invalid", detail
                response = error_response(
                    SandboxError(
                        "SANDBOX_CONTRACT_VIOLATION",
                        "The simulator produced a response its contract does not allow (a simulator bug)",
                        status=500,
                        details=f"{op.operation_id} {response.status_code}: {detail}",
                    )
                )
        if state.fault is not None and op is not None and not injected:  # a fault is decided for an operation
            response = faults.apply(state.fault, "after", self.contract, op, req, response)
        if state.verdict == "request_rejected":
            error = state.error
            state.detail = (error.details or error.message) if error is not None else None
            if response.status_code == 401:
                state.verdict = "unauthorized"
        response.headers["x-cid"] = state.cid or ""
        journal.record(self.sandbox, state, req, response)
        return response

    def finish(self, state: RequestContext) -> None:
        self.sandbox.settings.unpin()
        end(state)


def install(app: Flask, gateway: Gateway) -> None:
    """The gateway as Flask hooks, for the requests Flask routes itself."""

    @app.before_request
    def _on_the_way_in() -> Response | None:
        # The real object behind the proxy, looked up once (typed as a Request, it is a LocalProxy).
        req = request._get_current_object()  # type: ignore[attr-defined]
        state = gateway.begin(req)
        rule = req.url_rule.rule if req.url_rule is not None else None
        op = gateway.contract.match("GET" if req.method == "HEAD" else req.method, rule)
        return gateway.enter(state, req, op, rule)

    @app.after_request
    def _on_the_way_out(response: Response) -> Response:
        return gateway.leave(current(), request._get_current_object(), response)  # type: ignore[attr-defined]

    @app.teardown_request
    def _forget_the_snapshot(_error: BaseException | None) -> None:
        gateway.finish(current())


def _options(contract: Contract, rule: str) -> Response | None:
    """OPTIONS on a documented path: Allow names the methods its contract documents there.
    (Werkzeug's automatic answer also lists the methods of other routes the URL happens to
    match: .../bank-accounts/brazil is also .../bank-accounts/{schemeName}.)"""
    methods = {method for method, documented in contract.operations if documented == rule}
    if not methods:
        return None
    methods |= {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return Response(status=200, headers={"Allow": ", ".join(sorted(methods))})
