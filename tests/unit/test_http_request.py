"""A request's headers answer every lookup as werkzeug's own environ headers do, only without
raising inside on a miss."""

from __future__ import annotations

import io

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


def _outcome(request_class, environ: dict, body: bytes, limit: int | None):
    request = request_class({**environ, "wsgi.input": io.BytesIO(body)})
    request.max_content_length = limit
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
)
def test_a_body_reads_as_werkzeug_reads_it(body, declared, chunked, terminated, limit):
    environ = {"REQUEST_METHOD": "POST", "SERVER_NAME": "h", "SERVER_PORT": "80", "CONTENT_TYPE": "application/json"}
    if declared is not None:
        environ["CONTENT_LENGTH"] = str(declared)
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    if terminated:
        environ["wsgi.input_terminated"] = True
    assert _outcome(SandboxRequest, environ, body, limit) == _outcome(Request, environ, body, limit)
