"""The request object of every request: Flask's, with header lookups that cost a dictionary read
and a body of known length read in one call.

werkzeug answers ``headers.get(name)`` for a header the request does not carry by raising and
catching an HTTP exception inside, which costs more than the lookup; a request looks up about
ten headers it mostly does not carry (tracking ids, forwarded tenant and account, fault header,
Transfer-Encoding). These headers read the WSGI environ directly, with werkzeug's key rules.

werkzeug reads a body through a stream wrapper that enforces the length; a body whose
Content-Length is known and within the limit is read here with one ``read`` of that length,
with werkzeug's outcome for a body that ends early (a client that went away). A chunked body,
or one over the limit, goes werkzeug's way. ``read_ahead`` reads the body (of any kind) before
the operation's turn (turns.py), so that a slow client keeps no other operation waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Request
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from pismo_sandbox import jsonio

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})


class Headers(EnvironHeaders):
    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:  # type: ignore[override]
        if type is not None or not isinstance(key, str):
            return super().get(key, default, type)
        name = key.upper().replace("-", "_")
        value = self.environ.get(name if name in _UNPREFIXED else f"HTTP_{name}")
        return default if value is None else value


class SandboxRequest(Request):
    json_module = jsonio  # bodies read as every check reads them, with or without an app context

    def __init__(self, environ: WSGIEnvironment, populate_request: bool = True, shallow: bool = False) -> None:
        super().__init__(environ, populate_request, shallow)
        self.headers = Headers(environ)

    def get_data(  # type: ignore[override]
        self,
        cache: bool = True,
        as_text: bool = False,
        parse_form_data: bool = False,
    ) -> bytes | str:
        unread = self.__dict__.pop("_unread", None)
        if unread is not None:  # what reading ahead met, raised where the body is asked for
            raise unread
        if (
            cache
            and not parse_form_data
            and getattr(self, "_cached_data", None) is None
            and "stream" not in self.__dict__
        ):
            self._cached_data = self._read_body()  # type: ignore[assignment]  # None: werkzeug reads
        return super().get_data(cache, as_text, parse_form_data)  # type: ignore[call-overload,no-any-return]

    def read_ahead(self) -> None:
        """Read the body now, as ``get_data`` would (a chunked one too), so that no later step
        waits for the client; whatever reading it raises is raised by the first ``get_data``
        instead. (A body declared over the limit is refused before a byte of it is read.)"""
        if getattr(self, "_cached_data", None) is not None or "stream" in self.__dict__:
            return
        try:
            self.get_data(cache=True)
        except Exception as error:  # e.g. the client went away: answered as if read later
            self._unread = error

    def _read_body(self) -> bytes | None:
        """The body as werkzeug's stream would read it whole; None to let werkzeug read it."""
        length, limit = self.content_length, self.max_content_length
        if length is None or (limit is not None and length > limit):
            return None  # chunked, absent, or too large: werkzeug's way
        stream = self.environ["wsgi.input"]
        if "wsgi.input_terminated" in self.environ:  # the server ends the stream: read to its end
            if limit is None:
                return stream.read()  # type: ignore[no-any-return]
            if limit == 0:  # werkzeug's stream is exhausted before it starts
                raise RequestEntityTooLarge()
            return stream.read(limit)  # type: ignore[no-any-return]  # at most the limit, silently
        data = stream.read(length) if length else b""
        if len(data) < length:
            raise ClientDisconnected()
        return data  # type: ignore[no-any-return]
