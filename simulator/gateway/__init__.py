"""What Pismo's API gateway does in front of every service, as Flask request hooks.

Order on the way in: tracking id, Host and Origin (every path), body-size limit,
authentication, JSON-only POST, request validation.
On the way out: response validation, x-cid, journal. It knows no domain.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request

from pismo_sandbox.contract import Contract, Operation
from pismo_sandbox.errors import SandboxError, error_response
from pismo_sandbox.gateway import auth, busy, faults, header_rules, journal, limits, origin, tracking
from pismo_sandbox.request_context import begin, current
from pismo_sandbox.core import SandboxCore

log = logging.getLogger("pismo_sandbox")


def install(app: Flask, sandbox: SandboxCore) -> None:
    contract = sandbox.contract
    site = origin.SitePolicy.from_config(sandbox.config)
    busy.install(app, sandbox)

    @app.before_request
    def _on_the_way_in() -> Response | None:
        state = begin(sandbox, time.perf_counter())
        # The real object behind the proxy, looked up once (typed as a Request, it is a LocalProxy).
        req = request._get_current_object()  # type: ignore[attr-defined]
        sandbox.settings.pin()  # one read of clock state and cache versions per request
        state.cid = tracking.cid_for(req, sandbox.ids)
        refused = origin.refusal(req, site)
        if refused is not None:
            state.verdict = "request_rejected"
            raise refused
        header_rules.check(req.environ)  # a gateway answer, before any operation (ERRATA S-15)
        rule = req.url_rule.rule if req.url_rule is not None else None
        op: Operation | None = contract.match("GET" if req.method == "HEAD" else req.method, rule)
        state.operation = op
        if op is None:
            if rule is not None:  # a route the contract does not describe is guarded all the same
                state.verdict = "request_rejected"
                origin.require_json(req, None)
                state.verdict = "not_validated"
            return _options(contract, rule) if req.method == "OPTIONS" and rule else None
        state.verdict = "request_rejected"
        limits.check_body_size(req, op, sandbox.config.max_body_bytes)
        state.principal = auth.authenticate(req, op, sandbox)
        origin.require_json(req, op)
        state.fault = faults.decide(sandbox, req, op, state.principal)
        if state.fault is not None:
            injected = faults.apply(state.fault, "before", contract, op, req)
            if injected is not None:
                state.verdict = "fault_injected"
                return injected
        state.checked = contract.check_request(op, req)
        state.verdict = "ok"
        return None

    @app.after_request
    def _on_the_way_out(response: Response) -> Response:
        state, req = current(), request._get_current_object()  # type: ignore[attr-defined]
        op: Operation | None = state.operation
        injected = state.fault_injected or state.gateway_answered
        if op is not None and not injected:
            problems = contract.check_response(op, req, response)
            if problems:
                detail = "; ".join(problems)
                log.error("response breaks the contract of %s (%s %s -> %s): %s",
                          op.operation_id, req.method, req.path, response.status_code, detail)
                state.verdict, state.detail = "response_invalid", detail
                response = error_response(SandboxError(
                    "SANDBOX_CONTRACT_VIOLATION",
                    "The simulator produced a response its contract does not allow (a simulator bug)",
                    status=500, details=f"{op.operation_id} {response.status_code}: {detail}"))
        if state.fault is not None and op is not None and not injected:  # a fault is decided for an operation
            response = faults.apply(state.fault, "after", contract, op, req, response)
        if state.verdict == "request_rejected":
            error = state.error
            state.detail = (error.details or error.message) if error is not None else None
            if response.status_code == 401:
                state.verdict = "unauthorized"
        response.headers["x-cid"] = state.cid or ""
        journal.record(sandbox, state, req, response)
        return response

    @app.teardown_request
    def _forget_the_snapshot(_error: BaseException | None) -> None:
        sandbox.settings.unpin()


def _options(contract: Contract, rule: str) -> Response | None:
    """OPTIONS on a documented path: Allow names the methods its contract documents there.
    (Werkzeug's automatic answer also lists the methods of other routes the URL happens to
    match: .../bank-accounts/brazil is also .../bank-accounts/{schemeName}.)"""
    methods = {method for method, documented in contract.operations if documented == rule}
    if not methods:
        return None
    methods |= {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return Response(status=200, headers={"Allow": ", ".join(sorted(methods))})
