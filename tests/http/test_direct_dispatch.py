"""An operation's request is dispatched straight to its handler, without Flask's request
machinery; it answers exactly as it would through Flask: same status, headers and body, same
journal row, same state left behind. Flask still serves everything else."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from werkzeug.test import Client

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.core import EXTENSION
from pismo_sandbox.request_context import current

FROZEN_AT = "2026-06-01T12:00:00Z"
KEY = "direct-dispatch-test-master-key-0123456789abcdef"


class Twin:
    """One app, reached one way: straight to its dispatcher, or through Flask alone."""

    def __init__(self, path: str, through_flask: bool):
        self.app = create_app(Config(db_path=path, id_seed=7, master_key=KEY))
        self.client = Client(self.app.wsgi_app.flask_wsgi if through_flask else self.app)

    def fresh(self) -> tuple[int, str]:
        """Reset, freeze the clock, and make a tenant, an account and its token."""
        self.app.extensions[EXTENSION].reset()
        self.call("POST", "/_sandbox/clock", {"now": FROZEN_AT, "freeze": True})
        tenant = self.call("POST", "/_sandbox/tenants", {})[2]
        account = self.call("POST", f"/_sandbox/tenants/{tenant['tenant_id']}/accounts", {})[2]["account_id"]
        token = self.call("POST", "/_sandbox/tokens", {"tenant_id": tenant["tenant_id"], "account_id": account})[2]
        return account, token["token"]

    def call(
        self, method: str, path: str, body: object = None, headers: dict | None = None, raw: bytes | None = None
    ) -> tuple[int, dict, object, bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else (headers or {})
        response = self.client.open(path, method=method, data=data, headers=sent)
        payload = response.get_data()
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = None
        return response.status_code, dict(response.headers), parsed, payload


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twins")
    pair = Twin(str(folder / "direct.db"), through_flask=False), Twin(str(folder / "flask.db"), through_flask=True)
    yield pair
    for twin in pair:
        twin.app.extensions[EXTENSION].close()


def _requests(account: int) -> st.SearchStrategy:
    scheme = {
        "bank": "00000000",
        "branch": "186",
        "account_number": "1773065291",
        "supplementary_data": {"account_type": "CACC"},
    }
    bodies = st.one_of(
        st.none(),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
            max_leaves=6,
        ),
        st.fixed_dictionaries(
            {
                "key": st.text(max_size=10),
                "provider": st.sampled_from(["CELCOIN", "BTG", "X"]),
                "type": st.sampled_from(["PIX", "BAAS", "TED"]),
            }
        ),
        st.fixed_dictionaries(
            {"scheme": st.just(scheme)}, optional={"metadata": st.dictionaries(st.text(max_size=5), st.integers())}
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from([1, 2, 3]), "digitable_line": st.from_regex(r"\A[0-9]{44,48}\Z")}
        ),
    )
    paths = st.sampled_from(
        [
            ("POST", "/banking-auth/v1/credentials"),
            ("POST", f"/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil"),
            ("GET", f"/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil"),
            ("DELETE", f"/intl-bankaccounts/v2/accounts/{account}/bank-accounts/BRAZIL"),
            ("GET", f"/intl-bankaccounts/v2/accounts/{account + 1}/bank-accounts/brazil"),
            ("POST", "/integrated-payments/v1/bankslips/validate"),
            ("POST", "/integrated-payments/v1/bankslips/pay"),
            ("GET", "/integrated-payments/v1/bankslips/receipts?limit=2"),
            ("GET", "/integrated-payments/v1/bankslips/receipts?limit=zero"),
            ("POST", "/passport/v2/s2s/access-token"),
            ("GET", "/_sandbox/events?limit=2"),
            ("PUT", "/banking-auth/v1/credentials"),
            ("GET", "/no/such/path"),
        ]
    )
    raw = st.sampled_from([None, b"{not json", b"[]", b"{}", b"x" * 70_000])
    headers = st.fixed_dictionaries(
        {},
        optional={
            "auth": st.sampled_from(["token", "none", "garbage"]),
            "x-cid": st.sampled_from(["given-cid-1", "bad cid with spaces"]),
            "x-idempotency-key": st.sampled_from(["k-1", "k-2"]),
            "Content-Type": st.sampled_from(["text/plain", "application/json; charset=utf-8"]),
        },
    )
    return st.lists(st.tuples(paths, bodies, raw, headers), min_size=1, max_size=6)


def _headers(wanted: dict, token: str) -> dict:
    headers = {name: value for name, value in wanted.items() if name != "auth"}
    auth = wanted.get("auth", "token")
    if auth == "token":
        headers["Authorization"] = f"Bearer {token}"
    elif auth == "garbage":
        headers["Authorization"] = "Bearer not.a.token"
    return headers


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_an_operation_answers_alike_dispatched_directly_or_through_flask(twins, data):
    direct, through_flask = twins
    account, token = direct.fresh()
    assert through_flask.fresh() == (account, token)
    for (method, path), body, raw, wanted in data.draw(_requests(account)):
        headers = _headers(wanted, token)
        expected = through_flask.call(method, path, body, headers, raw)
        got = direct.call(method, path, body, headers, raw)
        assert got == expected, (method, path)
    journals = [twin.call("GET", "/_sandbox/journal?limit=50")[2]["items"] for twin in twins]
    for entries in journals:
        for entry in entries:  # when, and how long: the twins answered at different instants
            entry.pop("duration_ms")
            entry.pop("answered_at")
    assert journals[0] == journals[1]


def test_flask_still_answers_what_is_not_an_operation(client):
    options = client.open("/banking-auth/v1/credentials", method="OPTIONS")
    assert options.status_code == 200 and options.headers["Allow"] == "OPTIONS, POST"
    head = client.head("/_sandbox/health")
    assert head.status_code == 200 and head.get_data() == b"" and head.headers["x-cid"]
    missing = client.get("/no/such/path")
    assert missing.status_code == 404 and missing.json["code"] == "SANDBOX_ROUTE_NOT_FOUND"
    not_allowed = client.put("/banking-auth/v1/credentials", json={})
    assert not_allowed.status_code == 405 and "POST" in not_allowed.headers["Allow"]
    page = client.get("/_sandbox/ui/login")
    assert page.status_code == 200 and page.mimetype == "text/html"


def test_no_request_context_stays_current_after_an_answer(client, tenant):
    for _ in range(2):
        assert client.post(
            "/banking-auth/v1/credentials", json={"key": "k", "provider": "BTG", "type": "PIX"}, headers=tenant.headers
        ).status_code in (200, 201)
        assert client.get("/no/such/path").status_code == 404
    with pytest.raises(LookupError):
        current()
