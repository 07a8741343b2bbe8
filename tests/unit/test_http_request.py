"""A request's headers answer every lookup as werkzeug's own environ headers do, only without
raising inside on a miss; its body reads as werkzeug reads it, whether read ahead or when asked for."""

from __future__ import annotations

import io

import pytest

from flask import Request
from hypothesis import given, settings, strategies as st
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException

from pismo_sandbox.http_request import Headers, SandboxRequest

NAMES = [
    "x-cid",
    "X-Cid",
    "tracking_id",
    "tracking-id",
    "Content-Type",
    "content-length",
    "CONTENT_TYPE",
    "Transfer-Encoding",
    "authorization",
    "x-tenant",
    "HTTP_X_CID",
    "",
    "-",
]
name = st.one_of(st.sampled_from(NAMES), st.text(max_size=12))
environ = st.dictionaries(
    st.one_of(
        st.sampled_from(
            [
                "CONTENT_TYPE",
                "CONTENT_LENGTH",
                "HTTP_X_CID",
                "HTTP_TRACKING_ID",
                "HTTP_AUTHORIZATION",
                "HTTP_TRANSFER_ENCODING",
                "HTTP_HTTP_X_CID",
                "HTTP_",
            ]
        ),
        st.text(max_size=12).map(lambda key: "HTTP_" + key.upper()),
    ),
    st.text(max_size=8),
    max_size=6,
)


@given(environ=environ, key=name, default=st.sampled_from([None, "", "fallback"]))
def test_a_header_lookup_answers_as_werkzeugs_does(environ, key, default):
    assert Headers(environ).get(key, default) == EnvironHeaders(environ).get(key, default)
    assert Headers(environ).get(key, default, type=len) == EnvironHeaders(environ).get(key, default, type=len)


def test_the_request_reads_its_headers_and_body_length_from_the_environ():
    request = SandboxRequest(
        {
            "REQUEST_METHOD": "POST",
            "CONTENT_LENGTH": "12",
            "HTTP_X_CID": "abc",
            "wsgi.input": None,
            "SERVER_NAME": "h",
            "SERVER_PORT": "80",
        }
    )
    assert isinstance(request.headers, Headers)
    assert (request.headers.get("x-cid"), request.headers.get("tracking-id"), request.content_length) == (
        "abc",
        None,
        12,
    )


def _outcome(request_class, environ: dict, body: bytes, limit: int | None, ahead: bool = False):
    request = request_class({**environ, "wsgi.input": io.BytesIO(body)})
    request.max_content_length = limit
    if ahead:
        request.read_ahead()  # as the dispatcher does before an operation's turn
    try:
        first = request.get_data(cache=True)
        return first, request.get_data(), request.get_json(silent=True) if request.is_json else None
    except HTTPException as error:
        return type(error)


@settings(max_examples=500)
@given(
    body=st.binary(max_size=40) | st.just(b'{"a": 1}'),
    declared=st.one_of(st.none(), st.integers(0, 50), st.sampled_from(["", "x", "-3"])),
    chunked=st.booleans(),
    terminated=st.booleans(),
    limit=st.one_of(st.none(), st.integers(0, 60)),
    ahead=st.booleans(),
)
def test_a_body_reads_as_werkzeug_reads_it(body, declared, chunked, terminated, limit, ahead):
    """Read when asked for, or read ahead first: the same bytes, or the same refusal."""
    environ = {"REQUEST_METHOD": "POST", "SERVER_NAME": "h", "SERVER_PORT": "80", "CONTENT_TYPE": "application/json"}
    if declared is not None:
        environ["CONTENT_LENGTH"] = str(declared)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    if terminated:
        environ["wsgi.input_terminated"] = True
    assert _outcome(SandboxRequest, environ, body, limit, ahead) == _outcome(Request, environ, body, limit)


class _ResetOnce(io.BytesIO):
    """A socket that is reset during the first read; read again, it has ended."""

    def __init__(self) -> None:
        super().__init__(b"")
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        if self.reads == 1:
            raise ConnectionResetError("reset by peer")
        return b""


def test_an_error_met_reading_ahead_is_raised_where_the_body_is_asked_for():
    stream = _ResetOnce()
    environ = {"REQUEST_METHOD": "POST", "SERVER_NAME": "h", "SERVER_PORT": "80", "CONTENT_LENGTH": "8"}
    request = SandboxRequest({**environ, "wsgi.input": stream})
    request.max_content_length = 100
    request.read_ahead()  # meets the reset, raises nothing yet
    assert stream.reads == 1
    with pytest.raises(ConnectionResetError):
        request.get_data()
    assert stream.reads == 1  # the body was not read twice


def test_reading_ahead_leaves_a_body_over_the_limit_unread():
    stream = io.BytesIO(b"x" * 50)
    environ = {"REQUEST_METHOD": "POST", "SERVER_NAME": "h", "SERVER_PORT": "80", "CONTENT_LENGTH": "50"}
    request = SandboxRequest({**environ, "wsgi.input": stream})
    request.max_content_length = 10
    request.read_ahead()
    assert stream.tell() == 0  # the gateway refuses it by its declared length, unread (413)
