"""The gateway in front of every Pismo route: tokens, forwarded headers, x-cid, body limits."""

from __future__ import annotations

import base64
import io
import json

import jwt
import pytest

CREDENTIAL = {"key": "k-123", "provider": "CELCOIN", "type": "PIX"}
CREDENTIALS = "/banking-auth/v1/credentials"


def _forge(claims: dict, key: bytes = b"x" * 64, alg: str = "HS512") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def test_missing_token_is_401_with_a_json_body(client):
    response = client.post(CREDENTIALS, json=CREDENTIAL)
    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert "missing bearer token" in response.json["details"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Basic abc", "Bearer a.b.c"])
def test_malformed_token_is_401(client, header):
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.is_json


def test_token_signed_with_another_key_is_401(client, tenant):
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={"Authorization": f"Bearer {_forge(claims)}"})
    assert response.status_code == 401
    assert response.json["details"] == "token signature is invalid"


def test_alg_none_token_is_401(client, tenant):
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    unsigned = f"{header.decode()}.{payload.decode()}."
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401
    assert response.json["details"] == "token algorithm is not accepted"


def test_token_expires_on_the_sandbox_clock(client, sandbox, tenant):
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers).status_code == 201
    sandbox.advance_clock(601)
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers)
    assert response.status_code == 401
    assert response.json["details"] == "token has expired"


def test_token_of_a_tenant_removed_by_reset_is_401(client, tenant):
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers)
    assert response.status_code == 401
    assert response.json["details"] == "token was issued before the sandbox was last reset"


def test_banking_auth_accepts_the_token_in_the_account_token_header(client, tenant):
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={"account_token": tenant.token})
    assert response.status_code == 201


def test_x_tenant_header_that_disagrees_with_the_token_is_refused(client, tenant):
    headers = {**tenant.headers, "x-tenant": "TN-someone-else"}
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=headers)
    assert response.status_code == 401
    assert "x-tenant" in response.json["details"]


def test_x_tenant_header_that_matches_the_token_is_accepted(client, tenant):
    headers = {**tenant.headers, "x-tenant": tenant.tenant_id, "x-account-id": str(tenant.account_id)}
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=headers).status_code == 201


def test_every_response_carries_a_generated_x_cid(client, tenant):
    first = client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers)
    second = client.post(CREDENTIALS, json={}, headers=tenant.headers)
    assert first.headers["x-cid"] and second.headers["x-cid"]
    assert first.headers["x-cid"] != second.headers["x-cid"]
    assert client.get("/no/such/route").headers["x-cid"]


@pytest.mark.parametrize("header", ["x-cid", "tracking_id"])
def test_the_clients_tracking_id_is_echoed(client, tenant, header):
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={**tenant.headers, header: "trace-42"})
    assert response.headers["x-cid"] == "trace-42"


def test_body_over_the_limit_is_413_before_parsing(client, tenant):
    body = json.dumps({**CREDENTIAL, "key": "x" * 70_000})
    response = client.post(CREDENTIALS, data=body, content_type="application/json", headers=tenant.headers)
    assert response.status_code == 413
    assert response.json["code"] == "PAYLOAD_TOO_LARGE"


def test_chunked_body_over_the_limit_is_413(client, tenant):
    body = b'{"key": "' + b"x" * 80_000 + b'", "provider": "BTG", "type": "PIX"}'
    response = client.post(
        CREDENTIALS,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={**tenant.headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )  # as gunicorn sets it
    assert response.status_code == 413
    assert response.json["code"] == "PAYLOAD_TOO_LARGE"


def test_unknown_route_is_a_json_404(client):
    response = client.get("/integrated-payments/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["code"] == "SANDBOX_ROUTE_NOT_FOUND"


def test_wrong_method_is_a_json_405(client):
    response = client.get(CREDENTIALS)
    assert response.status_code == 405
    assert response.json["code"] == "SANDBOX_METHOD_NOT_ALLOWED"


def test_journal_records_refusals_without_secrets(client, sandbox, tenant):
    client.post(CREDENTIALS, json={**CREDENTIAL, "key": "canary-journal-secret"}, headers=tenant.headers)
    client.post(CREDENTIALS, json=CREDENTIAL)
    entries = sandbox.journal(limit=5)
    assert [e["status"] for e in entries[:2]] == [401, 201]  # newest first
    assert entries[0]["verdict"] == "unauthorized"
    assert entries[1]["verdict"] == "ok" and entries[1]["tenant_id"] == tenant.tenant_id
    assert "canary-journal-secret" not in json.dumps(entries)
    assert tenant.token not in json.dumps(entries)


def test_journal_fingerprints_bodies_so_retries_under_new_keys_are_visible(client, sandbox, tenant):
    for key in ("k-1", "k-2"):
        client.post(CREDENTIALS, json=CREDENTIAL, headers={**tenant.headers, "x-idempotency-key": key})
    client.post(CREDENTIALS, json={**CREDENTIAL, "type": "BAAS"}, headers=tenant.headers)
    third, second, first = sandbox.journal(limit=3)
    assert (first["idempotency_key"], second["idempotency_key"], third["idempotency_key"]) == ("k-1", "k-2", None)
    assert first["body_fingerprint"] == second["body_fingerprint"] != third["body_fingerprint"]
    assert CREDENTIAL["key"] not in json.dumps([first, second, third])


def test_journal_names_error_codes_replays_and_fingerprints_faulted_requests(client, sandbox, tenant):
    client.post("/_sandbox/faults", json={"action": {"type": "status", "status": 502}, "schedule": {"times": 1}})
    client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers)
    client.post(CREDENTIALS, json=CREDENTIAL, headers=tenant.headers)
    ok, faulted = [e for e in sandbox.journal(limit=10) if e["path"] == CREDENTIALS]
    assert (faulted["status"], faulted["code"], ok["code"]) == (502, "EBAA0002", None)
    assert faulted["body_fingerprint"] and faulted["body_fingerprint"] == ok["body_fingerprint"]
    assert ok["replayed"] is False
    newer = sandbox.journal(after=faulted["seq"])
    assert faulted["seq"] not in [e["seq"] for e in newer] and ok["seq"] in [e["seq"] for e in newer]


@pytest.mark.parametrize(
    "path",
    [
        "/integrated-payments/v1/bankslips/receipts",
        "/integrated-payments/v1/bankslips/receipts?perPage=abc",
        "/intl-bankaccounts/v2/accounts/{account}/bank-accounts/BRAZIL",
        "/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil",
        "/_sandbox/health",
        "/no/such/route",
    ],
)
def test_head_answers_like_get_without_a_body(client, tenant, path):
    """HEAD of a documented GET is that GET, validated the same way (it was a 500)."""
    path = path.format(account=tenant.account_id)
    got, head = client.get(path, headers=tenant.headers), client.head(path, headers=tenant.headers)
    assert head.status_code == got.status_code < 500
    assert head.headers["Content-Type"] == got.headers["Content-Type"]
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.get_data() == b""


def test_head_without_a_token_is_the_documented_401(client, tenant):
    response = client.head(f"/intl-bankaccounts/v2/accounts/{tenant.account_id}/bank-accounts/BRAZIL")
    assert response.status_code == 401


@pytest.mark.parametrize("path", [CREDENTIALS, "/integrated-payments/v1/bankslips/receipts"])
def test_a_bare_token_without_the_bearer_scheme_is_401_saying_how_to_send_it(client, tenant, path):
    method = client.post if path == CREDENTIALS else client.get
    bare = method(path, json=CREDENTIAL, headers={"Authorization": tenant.token})
    assert bare.status_code == 401
    assert bare.json["details"] == "the Authorization header needs the Bearer scheme: Authorization: Bearer <token>"
    assert method(path, json=CREDENTIAL, headers={"Authorization": f"bearer {tenant.token}"}).status_code in (200, 201)


def test_authorization_wins_over_account_token_when_both_are_sent(client, tenant, sandbox):
    other = sandbox.tenant()
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers={**tenant.headers, "account_token": other.token})
    assert response.status_code == 201
    stored = client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).json["items"]
    assert len(stored) == 1
    assert client.get("/_sandbox/credentials", query_string={"tenant_id": other.tenant_id}).json["items"] == []
