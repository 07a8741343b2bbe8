"""What Pismo's API gateway does in front of every service, as Flask request hooks.

Order on the way in: tracking id, body-size limit, authentication, request validation.
On the way out: response validation, x-cid, journal. It knows no domain.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

from simulator.contract import Operation
from simulator.errors import SandboxError, error_response
from simulator.gateway import auth, faults, journal, limits, tracking
from simulator.services import Services

log = logging.getLogger("pismo_sandbox")


def install(app: Flask, services: Services) -> None:
    contract = services.contract

    @app.before_request
    def _on_the_way_in():
        g.started = time.perf_counter()
        services.settings.pin()  # one read of clock state and cache versions per request
        g.cid = tracking.cid_for(request, services.ids)
        g.principal = None
        g.verdict = "not_validated"
        g.detail = None
        g.fault = None
        rule = request.url_rule.rule if request.url_rule is not None else None
        op: Operation | None = contract.match(request.method, rule)
        g.operation = op
        if op is None:
            return _options(contract, rule) if request.method == "OPTIONS" and rule else None
        g.verdict = "request_rejected"
        limits.check_body_size(request, op, services.config.max_body_bytes)
        g.principal = auth.authenticate(request, op, services)
        g.fault = faults.decide(services, request, op, g.principal)
        if g.fault is not None:
            injected = faults.apply(g.fault, "before", contract, op, request)
            if injected is not None:
                g.verdict = "fault_injected"
                return injected
        g.checked = contract.check_request(op, request)
        g.verdict = "ok"
        return None

    @app.after_request
    def _on_the_way_out(response):
        op: Operation | None = g.get("operation")
        if op is not None and not g.get("fault_injected"):
            problems = contract.check_response(op, request, response)
            if problems:
                detail = "; ".join(problems)
                log.error("response breaks the contract of %s (%s %s -> %s): %s",
                          op.operation_id, request.method, request.path, response.status_code, detail)
                g.verdict, g.detail = "response_invalid", detail
                response = error_response(SandboxError(
                    "SANDBOX_CONTRACT_VIOLATION",
                    "The simulator produced a response its contract does not allow (a simulator bug)",
                    status=500, details=f"{op.operation_id} {response.status_code}: {detail}"))
        if g.get("fault") is not None and not g.get("fault_injected"):
            response = faults.apply(g.fault, "after", contract, op, request, response)
        if g.get("verdict") == "request_rejected":
            error = g.get("error")
            g.detail = (error.details or error.message) if error is not None else None
            if response.status_code == 401:
                g.verdict = "unauthorized"
        response.headers["x-cid"] = g.get("cid") or ""
        journal.record(services, request, response)
        return response

    @app.teardown_request
    def _forget_the_snapshot(_error):
        services.settings.unpin()


def _options(contract, rule: str):
    """OPTIONS on a documented path: Allow names the methods its contract documents there.
    (Werkzeug's automatic answer also lists the methods of other routes the URL happens to
    match: .../bank-accounts/brazil is also .../bank-accounts/{schemeName}.)"""
    methods = {method for method, documented in contract.operations if documented == rule}
    if not methods:
        return None
    methods |= {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
    return Response(status=200, headers={"Allow": ", ".join(sorted(methods))})
