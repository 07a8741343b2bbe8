"""Direct dispatch: a request for a documented operation goes from WSGI through the gateway to
its handler without Flask's request machinery (no app or request context, no session, no
signals, no hooks to look up); everything else (the dashboard, unknown paths, OPTIONS, HEAD)
goes on to Flask.

Routing is Flask's own: the app's URL map, with the rules ``handlers.mount`` built from the
bundled specs, decides which requests are an operation's, so both ways route alike. The way in
and out is the same ``Gateway`` Flask's hooks call, and errors become responses through the
same ``errors.answer``: a request answers the same whichever way it went.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, Request, Response
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from pismo_sandbox.errors import answer
from pismo_sandbox.handlers import Handler, render

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from pismo_sandbox.contract import Operation
    from pismo_sandbox.gateway import Gateway

# Flask answers these itself for every route (HEAD from GET, OPTIONS from the rule's methods).
_FLASKS_OWN = frozenset({"HEAD", "OPTIONS"})


class OperationDispatcher:
    """The app's WSGI callable (``app.wsgi_app``): operations here, the rest to ``flask_wsgi``."""

    def __init__(self, app: Flask, gateway: Gateway, handlers: Mapping[str, Handler]):
        self.url_map = app.url_map
        self.flask_wsgi: WSGIApplication = app.wsgi_app
        self.gateway = gateway
        self.json = app.json  # bodies are read as Flask's views read them
        self.max_body_bytes = gateway.sandbox.config.max_body_bytes
        self.operations = gateway.contract.by_id
        self.handlers: dict[str, Handler] = dict(handlers)  # by operationId (tests may replace one)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = self._operation_of(environ)
        if found is None:
            return self.flask_wsgi(environ, start_response)
        op, rule, args = found
        return self._serve(op, self.handlers[op.operation_id], rule, args, environ)(environ, start_response)

    def _operation_of(self, environ: WSGIEnvironment) -> tuple[Operation, Rule, Mapping[str, Any]] | None:
        if environ.get("REQUEST_METHOD") in _FLASKS_OWN:
            return None
        try:
            rule, args = self.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:  # not found, method not allowed, a redirect: Flask answers
            return None
        op = self.operations.get(rule.endpoint)
        return None if op is None else (op, rule, args)

    def _serve(self, op: Operation, handler: Handler, rule: Rule, args: Mapping[str, Any],
               environ: WSGIEnvironment) -> Response:
        req = Request(environ)
        req.url_rule, req.view_args = rule, dict(args)
        req.json_module = self.json
        req.max_content_length = self.max_body_bytes
        gateway = self.gateway
        state = gateway.begin(req)
        try:
            try:
                response = gateway.enter(state, req, op, rule.rule)
                if response is None:
                    response = render(handler(state))
            except Exception as error:  # every error has its answer
                response = answer(error)
            try:
                return gateway.leave(state, req, response)
            except Exception as error:  # as Flask: the answer, without the way out
                return answer(error)
        finally:
            gateway.finish(state)
