"""The two shapes of a built answer: a JSON body (encoded as every answer is, pismo_sandbox.jsonio)
and no body at all (only a status, and no Content-Type: there is nothing to describe). Built
without an app context, so that the dispatcher and Flask's views answer alike."""

from __future__ import annotations

from typing import Any

from flask import Response

from pismo_sandbox.jsonio import encode


def json_response(body: Any, status: int = 200) -> Response:
    return Response(encode(body) + b"\n", status=status, mimetype="application/json")


class _Bodiless(Response):
    default_mimetype = None  # no Content-Type to add (and none to remove afterwards)


def bodiless(status: int) -> Response:
    return _Bodiless(status=status)
