"""Operations take turns in a worker, and a client slow to send its body keeps no turn: the
worker's other requests are answered meanwhile. One worker, so every request meets the same turn.
(A request held by a delay fault: tests/served/test_faults_socket.py.)"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

pytestmark = pytest.mark.slow

URL = "/banking-auth/v1/credentials"
BODY = {"key": "k", "provider": "CELCOIN", "type": "PIX"}
ANSWER_WITHIN = 15  # seconds: far beyond an answer, far below the hold


@pytest.fixture
def one_worker(serve):
    server = serve(workers=1)
    return server, server.admin.new_account().headers


def _in_two_parts(body: bytes, chunked: bool) -> tuple[str, bytes, bytes]:
    """The framing header and the body as sent in two parts, with a pause between them."""
    if not chunked:
        return f"Content-Length: {len(body)}", body[:10], body[10:]
    first, rest = body[:10], body[10:]
    return (
        "Transfer-Encoding: chunked",
        b"%x\r\n%s\r\n" % (len(first), first),
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest),
    )


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_slow_to_send_its_body_holds_up_no_other_request(one_worker, chunked):
    server, headers = one_worker
    host, port = server.url.removeprefix("http://").split(":")
    framing, first, rest = _in_two_parts(json.dumps(BODY).encode(), chunked)
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: {headers['Authorization']}\r\n{framing}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as slow:
        slow.sendall(head + first)  # the rest of the body is held back
        time.sleep(0.3)  # the worker has the request and is waiting for its body
        with requests.Session() as session:
            for _ in range(5):
                answer = session.post(server.url + URL, json=BODY, headers=headers, timeout=ANSWER_WITHIN)
                assert answer.status_code == 201
        slow.sendall(rest)
        assert slow.recv(64).startswith(b"HTTP/1.1 201 ")
