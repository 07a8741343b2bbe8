"""The two shapes of a built answer: a JSON body (encoded as every answer is, pismo_sandbox.jsonio)
and no body at all (only a status, and no Content-Type: there is nothing to describe). Built
without an app context, so that the dispatcher and Flask's views answer alike.

Both are ``Answer``s: werkzeug's Response, handed to the server in one step when werkzeug would
change nothing on the way out (see ``Answer.__call__``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Response
from werkzeug.datastructures import Headers

from pismo_sandbox.jsonio import encode

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

JSON = "application/json"
# Headers werkzeug rewrites on the way out (made absolute URLs): an answer with one goes its way.
_REWRITTEN = frozenset({"location", "content-location"})


class _Headers(Headers):
    """werkzeug's Headers, telling that a header is absent without raising a KeyError (for
    which werkzeug builds an HTTP exception, BadRequestKeyError) and catching it."""

    def __contains__(self, key: str) -> bool:  # type: ignore[override]
        if not isinstance(key, str):
            return super().__contains__(key)
        key = key.lower()
        return any(name.lower() == key for name, _ in self)

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        if type is not None or not isinstance(key, str):
            return super().get(key, default, type)
        key = key.lower()
        return next((value for name, value in self if name.lower() == key), default)


class Answer(Response):
    """A werkzeug Response that skips werkzeug's way out when it would change nothing.

    werkzeug copies the headers, looks for Location to make it absolute, sets Content-Length
    if missing, empties the body of a HEAD request or of a 1xx/204/304 answer, and wraps the
    body in a closing iterator. An answer to a request other than HEAD, with no Location or
    Content-Location and nothing to call on close, whose body is one encoded piece with its
    Content-Length already set (``set_data`` sets it), or no body at all (a 204 without a
    length, any other status with a length of 0 added, as werkzeug adds it), goes to the
    server as it is; any other goes through werkzeug."""

    def __init__(self, response: Any = None, status: int | None = None, headers: Any = None, **kwargs: Any) -> None:
        super().__init__(response, status, _Headers(headers), **kwargs)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = self._as_sent(environ)
        if headers is None:
            return super().__call__(environ, start_response)
        start_response(self.status, headers)
        return self.response  # type: ignore[return-value]

    def _as_sent(self, environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
        """The headers werkzeug would send, when it would send the body as it is; else None."""
        body = self.response
        status = self.status_code
        if (
            type(body) is not list
            or len(body) > 1
            or self._on_close
            or self.direct_passthrough
            or environ.get("REQUEST_METHOD") == "HEAD"
            or status < 200
            or status == 304
        ):
            return None
        headers = self.headers.to_wsgi_list()
        lengths = []
        for name, value in headers:
            lowered = name.lower()
            if lowered in _REWRITTEN:
                return None
            if lowered == "content-length":
                lengths.append(value)
        if status == 204:  # werkzeug sends neither a body nor its length
            return None if body or lengths else headers
        if body:
            return headers if lengths == [str(len(body[0]))] else None
        if lengths:
            return None
        headers.append(("Content-Length", "0"))  # as werkzeug counts an empty body
        return headers


def json_response(body: Any, status: int = 200) -> Response:
    return Answer(encode(body) + b"\n", status=status, content_type=JSON)


class _Bodiless(Answer):
    default_mimetype = None  # no Content-Type to add (and none to remove afterwards)


def bodiless(status: int) -> Response:
    return _Bodiless(status=status)
