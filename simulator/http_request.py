"""The request object of every request: Flask's, with header lookups that cost a dictionary read.

werkzeug answers ``headers.get(name)`` for a header the request does not carry by raising and
catching an HTTP exception inside, which costs more than the lookup; a request looks up about
ten headers it mostly does not carry (tracking ids, forwarded tenant and account, fault header,
Transfer-Encoding). These headers read the WSGI environ directly, with werkzeug's key rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Request
from werkzeug.datastructures import EnvironHeaders

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
    def __init__(self, environ: WSGIEnvironment, populate_request: bool = True, shallow: bool = False) -> None:
        super().__init__(environ, populate_request, shallow)
        self.headers = Headers(environ)
