"""The rules a request's header section meets before anything reads it, in-process and served
alike (ERRATA S-15): a bounded number of fields, each of bounded size, no control characters in
a value, and values read as UTF-8 text.

WSGI hands header values over as latin-1 text (one character per byte on the wire), so a UTF-8
"é" arrives as two characters; the gateway turns such values back into the text the client
wrote, so that a length the documents state in characters (the 255 of ``x-idempotency-key``)
counts characters. A value that is not UTF-8 is left as latin-1 text.

What breaks a rule is refused in the gateway envelope (``GATEWAY_431``, ``GATEWAY_400``), the one
gunicorn's refusals get too (``pismo_sandbox.served_http``): gunicorn's own limits are set above
these, so whoever refuses, the client sees the same answer.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from pismo_sandbox.errors import SandboxError

MAX_FIELDS = 200  # header fields a request may carry (a repeated name counts once)
MAX_FIELD_BYTES = 16 * 1024  # one field: name, ": " and value, as bytes on the wire

# RFC 9110 5.5: a field value holds no control character but horizontal tab.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}
_LONGEST_FIELD = MAX_FIELD_BYTES - 8  # below this, no environ key and value can make a field too long


def gateway_refusal(status: int, details: str) -> SandboxError:
    """An answer of the gateway itself, before any operation: ``GATEWAY_<status>``."""
    return SandboxError(f"GATEWAY_{status}", HTTPStatus(status).phrase, status=status, details=details)


def _name(key: str) -> str:
    return _NOT_HEADERS.get(key) or key[5:].replace("_", "-").lower()


def check(environ: dict) -> None:
    """Refuse a header section that breaks a rule; read the values that are UTF-8 as such."""
    count = 0
    decoded = {}
    for key, value in environ.items():
        if not (key.startswith("HTTP_") or (key in _NOT_HEADERS and value)):
            continue
        count += 1
        # (the environ key ~ the name, minus "HTTP_", plus ": ": the exact count only near the limit)
        if len(key) + len(value) > _LONGEST_FIELD and len(_name(key)) + 2 + len(value) > MAX_FIELD_BYTES:
            raise gateway_refusal(431, f"header {_name(key)} is longer than {MAX_FIELD_BYTES} bytes")
        if _CONTROL.search(value):
            raise gateway_refusal(400, f"header {_name(key)}: control characters are not allowed in a header value")
        if not value.isascii():
            try:
                decoded[key] = value.encode("latin-1").decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                pass  # not UTF-8 on the wire (or already text): kept as it came
    if count > MAX_FIELDS:
        raise gateway_refusal(431, f"the request carries {count} header fields; at most {MAX_FIELDS} are accepted")
    environ.update(decoded)
