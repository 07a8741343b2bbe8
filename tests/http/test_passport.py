"""Server login: server key + secret -> tenant or account token."""

from __future__ import annotations

import jwt


def test_login_without_account_gives_a_tenant_token(client, sandbox):
    tenant = sandbox.create_tenant()
    response = client.post(
        "/passport/v2/s2s/access-token",
        json={"server_key": tenant["server_key"], "server_secret": tenant["server_secret"]},
    )
    assert response.status_code == 200
    assert response.json["tenant"] == tenant["tenant_id"] and response.json["expires_in"] == 600
    claims = jwt.decode(response.json["token"], options={"verify_signature": False})
    assert claims["tenant_id"] == tenant["tenant_id"] and "account_id" not in claims
    assert claims["exp"] - claims["iat"] == 600


def test_login_with_account_gives_an_account_token(client, sandbox):
    tenant = sandbox.create_tenant()
    account = sandbox.create_account(tenant["tenant_id"])
    token = sandbox.login(tenant, account)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["account_id"] == account and claims["uid"] == str(account)
    assert jwt.get_unverified_header(token)["alg"] == "HS512"


def test_older_secret_key_name_is_accepted(client, sandbox):
    tenant = sandbox.create_tenant()
    response = client.post(
        "/passport/v2/s2s/access-token",
        json={"server_key": tenant["server_key"], "secret_key": tenant["server_secret"]},
    )
    assert response.status_code == 200


def test_wrong_secret_is_401(client, sandbox):
    tenant = sandbox.create_tenant()
    response = client.post(
        "/passport/v2/s2s/access-token", json={"server_key": tenant["server_key"], "server_secret": "nope"}
    )
    assert response.status_code == 401
    assert response.json["code"] == "INVALID_CREDENTIALS"


def test_unknown_server_key_is_401(client):
    response = client.post("/passport/v2/s2s/access-token", json={"server_key": "x", "server_secret": "y"})
    assert response.status_code == 401


def test_account_of_another_tenant_is_404(client, sandbox):
    mine, theirs = sandbox.create_tenant(), sandbox.create_tenant()
    their_account = sandbox.create_account(theirs["tenant_id"])
    response = client.post(
        "/passport/v2/s2s/access-token",
        json={"server_key": mine["server_key"], "server_secret": mine["server_secret"], "account_id": their_account},
    )
    assert response.status_code == 404
    assert response.json["code"] == "ACCOUNT_NOT_FOUND"


def test_missing_secret_is_400(client, sandbox):
    tenant = sandbox.create_tenant()
    response = client.post("/passport/v2/s2s/access-token", json={"server_key": tenant["server_key"]})
    assert response.status_code == 400
    assert response.json["code"] == "INVALID_PAYLOAD"


def test_the_server_secret_is_not_stored_in_clear(client, sandbox, db_path):
    tenant = sandbox.create_tenant()
    import pathlib

    data = b"".join(pathlib.Path(db_path + s).read_bytes() for s in ("", "-wal") if pathlib.Path(db_path + s).exists())
    assert tenant["server_secret"].encode() not in data
