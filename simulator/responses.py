"""Answers with no body: only a status, and no Content-Type (there is nothing to describe)."""

from __future__ import annotations

from flask import Response


def bodiless(status: int) -> Response:
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response
