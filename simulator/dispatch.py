"""Direct dispatch: a request for a documented operation goes from WSGI through the gateway to
its handler without Flask's request machinery (no app or request context, no session, no
signals, no hooks to look up); everything else (the dashboard, unknown paths, OPTIONS, HEAD)
goes on to Flask.

Routing follows Flask's: ``OperationRoutes`` compiles the operations' rules of the app's URL map
(the ones ``handlers.mount`` built from the bundled specs) to one regular expression each, and
takes a request only when that rule is the one werkzeug's matcher would choose; anything it is
not sure of goes to Flask, which routes it itself (a property test compares the two). The way in
and out is the same ``Gateway`` Flask's hooks call, and errors become responses through the
same ``errors.answer``: a request answers the same whichever way it went.

Pismo's operations take turns in the process (``turns.py``): the request and its body are read
first, then the operation runs when no other one is running; the control plane takes no turn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from flask import Flask, Response
from werkzeug.routing import Rule

from pismo_sandbox.contract import ADMIN
from pismo_sandbox.errors import answer
from pismo_sandbox.handlers import Handler, render
from pismo_sandbox.http_request import SandboxRequest
from pismo_sandbox.turns import TURNS, Turns

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from pismo_sandbox.contract import Operation
    from pismo_sandbox.gateway import Gateway

# A rule whose arguments all take werkzeug's default converter: <name>, never <converter:name>.
_PLAIN_RULE = re.compile(r"(?:[^<>]|<[A-Za-z_][A-Za-z0-9_]*>)*")


class OperationDispatcher:
    """The app's WSGI callable (``app.wsgi_app``): operations here, the rest to ``flask_wsgi``."""

    def __init__(self, app: Flask, gateway: Gateway, handlers: Mapping[str, Handler], turns: Turns = TURNS):
        self.routes = OperationRoutes(app.url_map.iter_rules(), gateway.contract.by_id)
        self.flask_wsgi: WSGIApplication = app.wsgi_app
        self.request_class: type[SandboxRequest] = app.request_class  # type: ignore[assignment]
        self.gateway = gateway
        self.max_body_bytes = gateway.sandbox.config.max_body_bytes
        self.handlers: dict[str, Handler] = dict(handlers)  # by operationId (tests may replace one)
        self.turns = turns

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = self.routes.match(environ)
        if found is None:
            return self.flask_wsgi(environ, start_response)
        op, rule, args = found
        req = self.request_class(environ)
        req.url_rule, req.view_args = rule, dict(args)
        req.max_content_length = self.max_body_bytes
        handler = self.handlers[op.operation_id]
        if op.auth == ADMIN:  # the control plane takes no turn (a journal read waits for others)
            return self._serve(op, handler, rule.rule, req)(environ, start_response)
        if op.has_body:
            req.read_ahead()  # before the turn: a slow client holds up no other operation
        with self.turns:
            return self._serve(op, handler, rule.rule, req)(environ, start_response)

    def _serve(self, op: Operation, handler: Handler, rule: str, req: SandboxRequest) -> Response:
        gateway = self.gateway
        state = gateway.begin(req)
        try:
            try:
                response = gateway.enter(state, req, op, rule)
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


class OperationRoutes:
    """The operations' URL rules, one regular expression each, per method.

    werkzeug matches the path decoded as UTF-8 (PATH_INFO is latin-1 text of the raw bytes), a
    ``<name>`` argument is one or more characters up to the next "/", and with strict slashes
    off a trailing "/" is optional. A rule with static text where another has an argument wins
    (``.../bank-accounts/brazil`` over ``.../bank-accounts/<schemeName>``), so rules are tried
    with the fewest arguments first. Anything else werkzeug does (leading or doubled slashes,
    redirects, HEAD, OPTIONS, the dashboard's routes) is left to Flask: ``match`` answers None.
    """

    def __init__(self, rules: Iterable[Rule], operations: Mapping[str, Operation]):
        compiled: dict[str, list[tuple[int, int, re.Pattern[str], Operation, Rule]]] = {}
        for rule in rules:
            op = operations.get(str(rule.endpoint))
            if op is None or rule.rule != op.flask_rule or not _PLAIN_RULE.fullmatch(rule.rule):
                continue
            parts = re.split(r"<([A-Za-z_][A-Za-z0-9_]*)>", rule.rule)
            pattern = "".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>[^/]+)" for n, part in enumerate(parts))
            static = sum(len(part) for part in parts[::2])
            compiled.setdefault(op.method, []).append((len(parts) // 2, -static, re.compile(f"{pattern}/?"), op, rule))
        self._by_method = {
            method: [(pattern, op, rule) for *_, pattern, op, rule in sorted(entries, key=lambda entry: entry[:2])]
            for method, entries in compiled.items()
        }

    def match(self, environ: WSGIEnvironment) -> tuple[Operation, Rule, dict[str, str]] | None:
        candidates = self._by_method.get(environ.get("REQUEST_METHOD", ""))
        if candidates is None:
            return None
        path = environ.get("PATH_INFO") or ""
        if not path.isascii():
            path = path.encode("latin-1").decode("utf-8", "replace")  # as werkzeug reads it
        for pattern, op, rule in candidates:
            found = pattern.fullmatch(path)
            if found is not None:
                return op, rule, found.groupdict()
        return None
