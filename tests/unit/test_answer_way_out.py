"""An Answer leaves as werkzeug's Response would: the same status, headers and body, whether it
takes the one-step way out or werkzeug's."""

from __future__ import annotations

from typing import Any

from flask import Response
from hypothesis import given, settings
from hypothesis import strategies as st

from pismo_sandbox.responses import Answer, bodiless, json_response


def served(answer: Answer, method: str = "POST", way: Any = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status, headers, body) as the server is handed them: by ``answer`` itself, or by ``way``
    (werkzeug's own ``Response.__call__``) on the same answer."""
    started: list[Any] = []
    environ = {"REQUEST_METHOD": method, "SERVER_NAME": "sandbox", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    body = (way or type(answer).__call__)(answer, environ, lambda status, sent: started.extend([status, sent]))
    return started[0], list(started[1]), b"".join(body)


statuses = st.sampled_from([200, 201, 202, 204, 304, 400, 404, 409, 422, 500, 502, 504])
headers = st.lists(
    st.tuples(
        st.sampled_from(["x-cid", "Retry-After", "Location", "Content-Location", "x-idempotency-replayed"]),
        st.text("abc/1", min_size=1, max_size=5),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(
    status=statuses,
    body=st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    extra=headers,
    method=st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
)
def test_an_answer_leaves_as_werkzeug_would_send_it(status: int, body: Any, extra: list, method: str) -> None:
    answer = bodiless(status) if body is None else json_response(body, status)
    for name, value in extra:
        answer.headers.add(name, value)
    assert served(answer, method) == served(answer, method, way=Response.__call__)


def test_a_json_answer_goes_out_in_one_piece_with_its_length() -> None:
    status, sent, body = served(json_response({"a": 1}, 201))
    assert status == "201 CREATED"
    assert ("Content-Length", str(len(body))) in sent and ("Content-Type", "application/json") in sent
    assert body == b'{"a":1}\n'


def test_a_no_content_answer_has_no_length_and_no_body() -> None:
    status, sent, body = served(bodiless(204))
    assert status == "204 NO CONTENT" and body == b""
    assert [name for name, _ in sent if name.lower() in ("content-length", "content-type")] == []


def test_a_changed_body_keeps_its_length_in_step() -> None:
    answer = json_response({"a": 1})
    answer.set_data(b"longer than before")
    assert served(answer)[1:] == (
        [("Content-Type", "application/json"), ("Content-Length", "18")],
        b"longer than before",
    )


@given(names=st.lists(st.sampled_from(["x-cid", "X-Cid", "Retry-After", "content-type"]), max_size=3))
def test_an_answer_tells_a_header_absent_or_present_as_werkzeug_does(names: list[str]) -> None:
    answer, plain = bodiless(204), Response(status=204, headers=[])
    plain.headers.remove("Content-Type")
    for name in names:
        answer.headers.add(name, "v")
        plain.headers.add(name, "v")
    for asked in ("x-cid", "X-CID", "retry-after", "Content-Type", "location"):
        assert (asked in answer.headers) == (asked in plain.headers)
        assert answer.headers.get(asked, "absent") == plain.headers.get(asked, "absent")
    assert answer.mimetype == plain.mimetype
