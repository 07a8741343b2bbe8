"""Request limits: the body-size cap, enforced before the body is parsed."""

from __future__ import annotations

from werkzeug.exceptions import RequestEntityTooLarge

from simulator.contract import Operation


def check_body_size(request, op: Operation, limit: int) -> None:
    """413 (in the operation's envelope) when the body is, or turns out to be, over the limit."""
    too_large = op.errors.get("payload_too_large", fallback=None)
    if request.content_length is not None and request.content_length > limit:
        too_large.raise_(details=f"request body is {request.content_length} bytes; the limit is {limit}")
    try:
        request.get_data(cache=True)  # chunked bodies: werkzeug stops reading at the limit
    except RequestEntityTooLarge:
        too_large.raise_(details=f"request body exceeds the limit of {limit} bytes")
