"""Account tokens: a reset ends every token issued before it, and every time claim is judged on
the sandbox clock."""

from __future__ import annotations

import base64
from datetime import datetime, UTC

import jwt
import pytest

from pismo_sandbox.config import Config
from pismo_sandbox.crypto import derive

MASTER = base64.b64encode(b"m" * 32).decode()
CREDENTIAL = {"key": "k-123", "provider": "CELCOIN", "type": "PIX"}
CREDENTIALS = "/banking-auth/v1/credentials"


@pytest.fixture
def config(db_path) -> Config:
    return Config(db_path=db_path, master_key=MASTER)


def _signed(claims: dict) -> str:
    return jwt.encode(claims, derive(base64.b64decode(MASTER), "tokens", 64), algorithm="HS512")


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _set_clock(client, iso: str) -> None:
    assert client.post("/_sandbox/clock", json={"now": iso, "freeze": True}).status_code == 200


def _epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def _recreate(client, sandbox, tenant_id: str, account_id: int) -> str:
    created = sandbox.create_tenant(tenant_id)
    sandbox.create_account(tenant_id, account_id=account_id)
    return sandbox.login(created, account_id)


def test_a_token_issued_before_a_reset_is_refused_for_good(client, sandbox):
    old = _recreate(client, sandbox, "TN-same", 4242)
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(old)).status_code == 201

    assert client.post("/_sandbox/reset", json={}).status_code == 200
    fresh = _recreate(client, sandbox, "TN-same", 4242)  # the same tenant and account ids again

    refused = client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(old))
    assert refused.status_code == 401
    assert refused.json["details"] == "token was issued before the sandbox was last reset"
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(fresh)).status_code == 201
    # ...and still refused after a second reset and re-creation.
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    _recreate(client, sandbox, "TN-same", 4242)
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(old)).status_code == 401
    assert client.get("/_sandbox/credentials", query_string={"tenant_id": "TN-same"}).json["items"] == []


def test_an_admin_issued_token_before_a_reset_is_refused_too(client, sandbox):
    _recreate(client, sandbox, "TN-admin", 77)
    old = client.post("/_sandbox/tokens", json={"tenant_id": "TN-admin", "account_id": 77}).json["token"]
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    _recreate(client, sandbox, "TN-admin", 77)
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(old)).status_code == 401


def test_a_token_without_a_generation_is_refused(client, tenant):
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    del claims["sandbox_generation"]
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(_signed(claims)))
    assert response.status_code == 401


def test_nbf_after_the_sandbox_clock_is_refused_even_when_wall_time_is_past_it(client, tenant):
    _set_clock(client, "2020-01-01T00:00:00Z")
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    claims.update(nbf=_epoch("2021-01-01T00:00:00Z"), exp=_epoch("2022-01-01T00:00:00Z"))
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(_signed(claims)))
    assert response.status_code == 401
    assert response.json["details"] == "token is not valid yet (nbf is after the sandbox clock)"
    _set_clock(client, "2021-06-01T00:00:00Z")  # the same token, once the sandbox clock passes nbf
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(_signed(claims))).status_code == 201


def test_nbf_before_the_sandbox_clock_is_accepted_even_when_wall_time_is_before_it(client, tenant):
    _set_clock(client, "2040-01-01T00:00:00Z")
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    claims.update(nbf=_epoch("2039-01-01T00:00:00Z"), exp=_epoch("2041-01-01T00:00:00Z"))
    response = client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(_signed(claims)))
    assert response.status_code == 201


def test_a_verified_token_is_rechecked_against_nbf_when_the_clock_moves_back(client, tenant):
    _set_clock(client, "2030-01-01T00:00:00Z")
    claims = jwt.decode(tenant.token, options={"verify_signature": False})
    claims.update(nbf=_epoch("2029-01-01T00:00:00Z"), exp=_epoch("2031-01-01T00:00:00Z"))
    token = _signed(claims)
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(token)).status_code == 201
    _set_clock(client, "2028-01-01T00:00:00Z")
    assert client.post(CREDENTIALS, json=CREDENTIAL, headers=_bearer(token)).status_code == 401
