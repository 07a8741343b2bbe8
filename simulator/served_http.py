"""How the served sandbox reads HTTP before the app sees a request (ERRATA S-15): the gunicorn
settings that let every header the bundled documents declare reach the app, limits above the
gateway's own (``pismo_sandbox.gateway.header_rules``) so that the app decides, and a worker that
answers whatever gunicorn still refuses as JSON in the gateway envelope instead of HTML."""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import Iterable

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from pismo_sandbox.gateway.header_rules import MAX_FIELD_BYTES, MAX_FIELDS, gateway_refusal

log = logging.getLogger("pismo_sandbox")

# gunicorn's limits, above the gateway's: a request between the two is the app's to refuse.
GUNICORN_MAX_FIELDS = 2 * MAX_FIELDS
GUNICORN_MAX_FIELD_BYTES = 2 * MAX_FIELD_BYTES
GUNICORN_MAX_REQUEST_LINE = 8190  # gunicorn's ceiling (its default is 4094)


def declared_underscore_headers(documents: Iterable[dict]) -> list[str]:
    """Header parameters of the documents whose names hold "_" (seed 000's ``account_token`` and
    ``tracking_id``), in upper case as gunicorn names them."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("in") == "header" and "_" in str(node.get("name", "")):
                names.add(node["name"].upper())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for document in documents:
        walk(document)
    return sorted(names)


def header_options(documents: Iterable[dict]) -> dict:
    """gunicorn settings: limits, the declared underscore headers, the JSON-answering worker."""
    return {
        "worker_class": SandboxWorker,
        "limit_request_fields": GUNICORN_MAX_FIELDS,
        "limit_request_field_size": GUNICORN_MAX_FIELD_BYTES,
        "limit_request_line": GUNICORN_MAX_REQUEST_LINE,
        # gunicorn drops header names holding "_" (header_map "drop"): `account_token` and
        # `tracking-id` would both be HTTP_..._... in the WSGI environ. A forwarder header is
        # mapped anyway, so exactly the declared names are listed as such and trusted from any
        # peer; nothing else a forwarder could set is honoured (no SCRIPT_NAME or PATH_INFO, no
        # scheme headers). Other underscore names are still dropped.
        "forwarder_headers": ",".join(declared_underscore_headers(documents)),
        "forwarded_allow_ips": "*",
        "secure_scheme_headers": {},
    }


class _Captured:
    """Stands in for the client socket while gunicorn writes its HTML refusal."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, _flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


class SandboxWorker(ThreadWorker):
    """gunicorn's threaded worker, answering what gunicorn refuses (431, 414, 400 and the rest)
    with the status gunicorn chose and a JSON body in the gateway envelope."""

    def handle_error(self, req: object, client: socket.socket, addr: object, exc: Exception) -> None:
        captured = _Captured()
        super().handle_error(req, captured, addr, exc)  # logs, classifies, writes HTML: captured
        status_line = captured.data.split(b"\r\n", 1)[0].decode("latin-1")
        try:
            status = int(status_line.split(" ", 2)[1])
        except (IndexError, ValueError):
            status = 500
        body = json.dumps(_refusal(status, exc), separators=(",", ":")).encode()
        reason = status_line.split(" ", 2)[2] if status_line.count(" ") >= 2 else "Error"
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Connection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nx-cid: {uuid.uuid4()}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:  # the client may be gone; gunicorn does the same
            log.debug("failed to send the refusal of a request gunicorn could not read")


def _refusal(status: int, exc: Exception) -> dict:
    kind = type(exc).__name__
    hdr = getattr(exc, "hdr", None)
    if kind == "InvalidHeader" and hdr:
        # The gateway's own words for the same refusal (header_rules.check).
        what = f"header {str(hdr).lower()}: control characters are not allowed in a header value"
    else:
        what = {
            "LimitRequestHeaders": "the request's header section is over the server's limits"
            f" ({GUNICORN_MAX_FIELDS} fields, {GUNICORN_MAX_FIELD_BYTES} bytes each)",
            "LimitRequestLine": f"the request line is longer than {GUNICORN_MAX_REQUEST_LINE} bytes",
            "InvalidHeader": "a header holds characters HTTP does not allow",
            "InvalidHeaderName": "a header name holds characters HTTP does not allow",
        }.get(kind, f"the request is not HTTP the server can read ({kind})")
    try:
        return gateway_refusal(status, what).body()
    except ValueError:  # not a status HTTPStatus knows
        return {"code": f"GATEWAY_{status}", "message": "Error", "details": what}
