"""Headers, limits and encodings: the same requests, byte for byte, through the in-process test
client and through a served instance (gunicorn, as `make run` serves it) get the same answers,
and those answers are the documented ones, always JSON in an envelope."""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass

import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.gateway.header_rules import MAX_FIELD_BYTES, MAX_FIELDS
from pismo_sandbox.served_http import GUNICORN_MAX_FIELD_BYTES, GUNICORN_MAX_FIELDS
from tests.conftest import ServedSandbox

pytestmark = pytest.mark.slow

CREDENTIALS = "/banking-auth/v1/credentials"
VALIDATE = "/integrated-payments/v1/bankslips/validate"
PAY = "/integrated-payments/v1/bankslips/pay"
CREDENTIAL = {"key": "parity-key", "provider": "CELCOIN", "type": "BAAS"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict | None


def _utf8(text: str) -> str:
    """What a WSGI server hands the app for ``text`` sent as UTF-8 bytes (latin-1 text)."""
    return text.encode("utf-8").decode("latin-1")


class InProcess:
    name = "in-process"

    def __init__(self, app):
        self.client = app.test_client()

    def send(self, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b"") -> Answer:
        response = self.client.open(
            path, method=method, data=body, headers=[(name, value.decode("latin-1")) for name, value in headers]
        )
        return Answer(
            response.status_code,
            {k.lower(): v for k, v in response.headers.items()},
            json.loads(response.get_data()) if response.get_data() else None,
        )


class Served:
    name = "served"

    def __init__(self, port: int):
        self.port = port

    def send(self, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b"") -> Answer:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: 127.0.0.1", b"Connection: close"]
        lines += [name.encode() + b": " + value for name, value in headers]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        found = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            found[name.strip().lower()] = value.strip()
        return Answer(int(status_line.split(" ")[1]), found, json.loads(payload) if payload else None)


def _json(target, method, path, body=None, headers=()):
    extra = [("Content-Type", b"application/json")] if body is not None else []
    return target.send(method, path, list(headers) + extra, json.dumps(body).encode() if body is not None else b"")


@dataclass
class World:
    """One target with a tenant, an account token and a validated slip ready to pay."""

    target: object
    token: str
    account_id: int
    pay_body: dict

    def auth(self) -> list[tuple[str, bytes]]:
        return [("Authorization", f"Bearer {self.token}".encode())]

    def fresh_slip(self) -> dict:
        """A new validated slip (each successful payment spends one)."""
        slip = _json(self.target, "POST", "/_sandbox/boletos", {"kind": "bank", "amount": 12.5}).body
        validation = _json(self.target, "POST", VALIDATE, {"type": 1, "bar_code": slip["bar_code"]}, self.auth())
        assert validation.status == 200, validation.body
        return {
            "account_id": self.account_id,
            "amount": validation.body["amount"],
            "external_authorization": validation.body["external_authorization"],
            "bankslip": {"type": 1, "bar_code": slip["bar_code"]},
        }


def _world(target) -> World:
    tenant = _json(target, "POST", "/_sandbox/tenants", {}).body
    account = _json(target, "POST", f"/_sandbox/tenants/{tenant['tenant_id']}/accounts", {}).body
    token = _json(
        target, "POST", "/_sandbox/tokens", {"tenant_id": tenant["tenant_id"], "account_id": account["account_id"]}
    ).body["token"]
    assert (
        _json(
            target, "PUT", f"/_sandbox/tenants/{tenant['tenant_id']}/bankslip-provider", {"provider": "CELCOIN"}
        ).status
        == 200
    )
    world = World(target, token, account["account_id"], {})
    world.pay_body = world.fresh_slip()
    return world


@pytest.fixture(scope="module")
def worlds(tmp_path_factory):
    """Both targets, set up the same way; one served instance for the whole module."""
    folder = tmp_path_factory.mktemp("parity")
    server = ServedSandbox(str(folder / "served.db")).start()
    try:
        yield {
            "in-process": _world(InProcess(create_app(Config(db_path=str(folder / "inprocess.db"))))),
            "served": _world(Served(server.port)),
        }
    finally:
        server.stop()


def both(worlds, case) -> list[Answer]:
    """Run ``case(world)`` on both targets; every answer is JSON in an envelope, and both agree
    on status and code."""
    answers = [case(worlds["in-process"]), case(worlds["served"])]
    for answer in answers:
        assert answer.headers.get("content-type", "").startswith("application/json") or answer.body is None
        assert answer.headers.get("x-cid")
        if answer.status >= 400:
            assert set(answer.body) <= {"code", "message", "details"} and answer.body["code"]
    assert [(a.status, (a.body or {}).get("code")) for a in answers] == [
        (answers[0].status, (answers[0].body or {}).get("code"))
    ] * 2
    return answers


# -- headers the documents declare ------------------------------------------------------------


def test_the_token_in_account_token_alone_is_accepted_on_banking_auth(worlds):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, [("account_token", w.token.encode())])
    )
    assert answers[0].status == 201


def test_tracking_id_is_echoed_in_x_cid(worlds):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + [("tracking_id", b"abc-123")])
    )
    assert [a.headers["x-cid"] for a in answers] == ["abc-123", "abc-123"]


def test_both_spellings_of_tracking_id_are_one_header_and_not_an_id(worlds):
    answers = both(
        worlds,
        lambda w: _json(
            w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + [("tracking_id", b"one"), ("tracking-id", b"two")]
        ),
    )
    assert answers[0].status == 201
    for answer in answers:
        uuid.UUID(answer.headers["x-cid"])  # neither value: a fresh id


def test_both_spellings_of_account_token_are_refused_as_a_token_sent_twice(worlds):
    answers = both(
        worlds,
        lambda w: _json(
            w.target,
            "POST",
            CREDENTIALS,
            CREDENTIAL,
            [("account_token", w.token.encode()), ("account-token", w.token.encode())],
        ),
    )
    assert answers[0].status == 401
    assert all("sent more than once" in a.body["details"] for a in answers)


def test_a_bare_token_without_the_bearer_scheme_is_401(worlds):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, [("Authorization", w.token.encode())])
    )
    assert answers[0].status == 401
    assert all("Bearer" in a.body["details"] for a in answers)


# -- limits -----------------------------------------------------------------------------------


def test_a_10000_character_idempotency_key_is_EIP0008(worlds):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", PAY, w.pay_body, w.auth() + [("x-idempotency-key", b"k" * 10_000)])
    )
    assert answers[0].status == 400 and answers[0].body["code"] == "EIP0008"
    assert all("x-idempotency-key" in a.body["details"] for a in answers)


def test_the_idempotency_key_limit_counts_characters_not_bytes(worlds):
    too_long = both(
        worlds,
        lambda w: _json(w.target, "POST", PAY, w.pay_body, w.auth() + [("x-idempotency-key", ("é" * 256).encode())]),
    )
    assert too_long[0].body["code"] == "EIP0008"
    paid = both(
        worlds,
        lambda w: _json(
            w.target, "POST", PAY, w.fresh_slip(), w.auth() + [("x-idempotency-key", ("é" * 255).encode())]
        ),
    )
    assert paid[0].status == 202


def test_a_utf8_idempotency_key_is_replayed_under_the_same_text(worlds):
    def twice(w):
        body, key = w.fresh_slip(), [("x-idempotency-key", "chave-ação-1".encode())]
        first = _json(w.target, "POST", PAY, body, w.auth() + key)
        again = _json(w.target, "POST", PAY, body, w.auth() + key)
        assert first.status == 202 and first.body == again.body
        return again

    answers = both(worlds, twice)
    assert all(a.headers["x-idempotency-replayed"] == "true" for a in answers)


def test_many_header_fields_within_the_limit_are_served(worlds):
    extra = [(f"x-extra-{i}", b"v") for i in range(150)]
    answers = both(worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + extra))
    assert answers[0].status == 201


@pytest.mark.parametrize("count", [MAX_FIELDS + 10, GUNICORN_MAX_FIELDS + 10])
def test_too_many_header_fields_are_431_in_the_gateway_envelope(worlds, count):
    extra = [(f"x-extra-{i}", b"v") for i in range(count)]
    answers = both(worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + extra))
    assert answers[0].status == 431 and answers[0].body["code"] == "GATEWAY_431"


@pytest.mark.parametrize("size", [9_000, MAX_FIELD_BYTES + 100, GUNICORN_MAX_FIELD_BYTES + 100])
def test_a_long_header_is_the_apps_to_judge_or_431_as_json(worlds, size):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + [("x-note", b"n" * size)])
    )
    if size + len("x-note: ") <= MAX_FIELD_BYTES:
        assert answers[0].status == 201  # over gunicorn's default 8 KiB, and served all the same
    else:
        assert answers[0].status == 431 and answers[0].body["code"] == "GATEWAY_431"


# -- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [b"a\x00b", b"a\x01b", b"a\x1fb", b"a\x7fb"])
def test_control_characters_in_a_header_are_400_in_the_gateway_envelope(worlds, value):
    answers = both(worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + [("x-note", value)]))
    assert answers[0].status == 400 and answers[0].body["code"] == "GATEWAY_400"
    assert [a.body["details"] for a in answers] == [
        "header x-note: control characters are not allowed in a header value"
    ] * 2


def test_a_tab_and_latin_text_in_a_header_are_fine(worlds):
    answers = both(
        worlds, lambda w: _json(w.target, "POST", CREDENTIALS, CREDENTIAL, w.auth() + [("x-note", "a\tb ç".encode())])
    )
    assert answers[0].status == 201


def test_x_skip_reconciliation_other_than_true_or_false_is_EIP0008_served_too(worlds):
    answers = both(
        worlds,
        lambda w: _json(
            w.target,
            "POST",
            PAY,
            w.pay_body,
            w.auth() + [("x-idempotency-key", b"skip-1"), ("x-skip-reconciliation", b"yes")],
        ),
    )
    assert answers[0].body["code"] == "EIP0008"


def test_a_body_over_the_limit_is_413_in_the_operations_envelope(worlds):
    def oversized(w):
        body = ('{"key": "' + "k" * 70_000 + '", "provider": "CELCOIN", "type": "BAAS"}').encode()
        return w.target.send("POST", CREDENTIALS, w.auth() + [("Content-Type", b"application/json")], body)

    answers = both(worlds, oversized)
    assert answers[0].status == 413 and answers[0].body["code"] == "PAYLOAD_TOO_LARGE"


def test_forwarded_headers_that_disagree_with_the_token_are_refused(worlds):
    answers = both(
        worlds,
        lambda w: _json(
            w.target, "POST", PAY, w.pay_body, w.auth() + [("x-idempotency-key", b"fwd-1"), ("x-account-id", b"1")]
        ),
    )
    assert answers[0].status == 403 and answers[0].body["code"] == "EIP0030"
