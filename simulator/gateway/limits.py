"""Request limits: the body-size cap, enforced before the body is parsed."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from werkzeug.exceptions import RequestEntityTooLarge

from pismo_sandbox.contract import Operation

if TYPE_CHECKING:
    from flask import Request


def check_body_size(request: Request, op: Operation, limit: int) -> None:
    """413 (in the operation's envelope) when the body is, or turns out to be, over the limit.

    Operations without a request body ignore whatever body a client sends.
    """
    if not op.has_body:
        return
    if request.content_length is not None and request.content_length > limit:
        _too_large(op, f"request body is {request.content_length} bytes; the limit is {limit}")
    over: bool | bytes
    try:
        data = request.get_data(cache=True)  # chunked bodies: werkzeug stops reading at the limit
        # ...and a chunked body cut exactly at the limit may still have more to come.
        over = request.content_length is None and len(data) >= limit and request.stream.read(1)
    except RequestEntityTooLarge:
        over = True
    if over:
        _too_large(op, f"request body exceeds the limit of {limit} bytes")


def _too_large(op: Operation, details: str) -> NoReturn:
    op.errors.get("payload_too_large", fallback=None).raise_(details=details)
