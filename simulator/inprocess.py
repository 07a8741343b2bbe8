"""A requests transport that hands each request to a WSGI app in this process (through
werkzeug's test client) instead of a socket, so the admin client (pismo_sandbox.client) talks to
an app built in-process exactly as it talks to a served sandbox."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

BASE_URL = "http://in-process"


class WSGIAdapter(BaseAdapter):
    """Answers requests from ``app`` (any WSGI app), one at a time."""

    def __init__(self, app: WSGIApplication) -> None:
        super().__init__()
        from werkzeug.test import Client

        self._client = Client(app)
        self._lock = threading.Lock()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        with self._lock:
            answer = self._client.open(
                url.path,
                method=request.method,
                query_string=url.query,
                headers=list(request.headers.items()),
                data=body or b"",
            )
        response = requests.Response()
        response.status_code = answer.status_code
        response.reason = answer.status.partition(" ")[2]
        response.headers = CaseInsensitiveDict(answer.headers.items())
        response._content = answer.get_data()
        response.encoding = get_encoding_from_headers(response.headers)
        response.url, response.request = request.url or "", request
        return response

    def close(self) -> None:
        pass


def session_for(app: WSGIApplication) -> requests.Session:
    """A requests session whose requests to BASE_URL are answered by ``app``."""
    session = requests.Session()
    session.mount(BASE_URL, WSGIAdapter(app))
    return session
