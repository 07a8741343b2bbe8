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
        if type is not None or not isinstance(key, str) or key in self:
            return super().get(key, default, type)
        return default


class Answer(Response):
    """A werkzeug Response that skips werkzeug's way out when it would change nothing.

    werkzeug copies the headers, looks for Location to make it absolute, sets Content-Length
    if missing, empties the body of a HEAD request or of a 1xx/204/304 answer, and wraps the
    body in a closing iterator. An answer whose body is one encoded piece with its
    Content-Length already set (``set_data`` sets it), or a 204 with no body, to a request
    other than HEAD, with no Location or Content-Location and nothing to call on close, goes
    to the server as it is; any other goes through werkzeug."""

    def __init__(self, response: Any = None, status: int | None = None, headers: Any = None, **kwargs: Any) -> None:
        super().__init__(response, status, _Headers(headers), **kwargs)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = self.response
        status = self.status_code
        if (
            type(body) is list
            and not self._on_close
            and not self.direct_passthrough
            and environ.get("REQUEST_METHOD") != "HEAD"
            and ((status == 204 and not body) or (len(body) == 1 and status >= 200 and status not in (204, 304)))
        ):
            headers = self.headers.to_wsgi_list()
            if body:
                length = [value for name, value in headers if name.lower() == "content-length"]
                fits = length == [str(len(body[0]))]
            else:
                fits = True
            if fits and not any(name.lower() in _REWRITTEN for name, _ in headers):
                start_response(self.status, headers)
                return body
        return super().__call__(environ, start_response)


def json_response(body: Any, status: int = 200) -> Response:
    return Answer(encode(body) + b"\n", status=status, content_type=JSON)


class _Bodiless(Answer):
    default_mimetype = None  # no Content-Type to add (and none to remove afterwards)


def bodiless(status: int) -> Response:
    return _Bodiless(status=status)
