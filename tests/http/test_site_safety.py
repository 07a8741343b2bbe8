"""Cross-site safety: a web page the developer visits cannot drive the sandbox (foreign Host,
foreign Origin, a POST a browser would send without asking), on every path; configuration
widens what is allowed. docs/security.md states the rules."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config

JSON = {"Content-Type": "application/json"}
CREDENTIAL = {"key": "k-123", "provider": "CELCOIN", "type": "PIX"}
EVIL = "http://evil.example"


def _tenants(client) -> list[str]:
    return [t["tenant_id"] for t in client.get("/_sandbox/tenants").json["items"]]


def _last_journal_row(client) -> dict:
    return client.get("/_sandbox/journal", query_string={"limit": 2}).json["items"][1]


def test_a_cross_site_form_post_cannot_reset_the_sandbox(client, tenant):
    response = client.post("/_sandbox/reset", data="x", headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status_code == 403
    assert response.json["code"] == "GATEWAY_403" and "Origin" in response.json["details"]
    assert tenant.tenant_id in _tenants(client)
    row = _last_journal_row(client)
    assert (row["path"], row["status"], row["code"], row["verdict"]) == (
        "/_sandbox/reset",
        403,
        "GATEWAY_403",
        "request_rejected",
    )
    assert "evil.example" in row["detail"]


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"],
)
def test_a_post_not_sent_as_json_changes_nothing(client, tenant, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    reset = client.post("/_sandbox/reset", data="x" if content_type else None, headers=headers)
    assert reset.status_code == 400 and reset.json["code"] == "SANDBOX_INVALID_REQUEST"
    assert "Content-Type: application/json" in reset.json["details"]
    created = client.post("/_sandbox/tenants", data="{}" if content_type else None, headers=headers)
    assert created.status_code == 400
    assert _tenants(client) == [tenant.tenant_id]
    stored = client.post(
        "/banking-auth/v1/credentials",
        data='{"key": "k", "provider": "CELCOIN", "type": "PIX"}',
        headers={**headers, **tenant.headers},
    )
    assert stored.status_code == 400 and stored.json["code"] == "EBAA0004"
    assert client.get("/_sandbox/credentials", query_string={"tenant_id": tenant.tenant_id}).json["items"] == []


def test_an_empty_post_that_says_json_is_served(client, tenant):
    assert client.post("/_sandbox/reset", headers=JSON).status_code == 200
    assert _tenants(client) == []
    assert client.post("/_sandbox/tenants", headers=JSON).status_code == 201


def test_put_patch_and_delete_need_no_content_type_but_a_foreign_origin_is_refused(client, tenant):
    # A browser preflights these (the sandbox grants no CORS), so only the Origin check matters.
    url = f"/_sandbox/tenants/{tenant.tenant_id}/accounts/{tenant.account_id}"
    assert client.delete(url, headers={"Origin": EVIL}).status_code == 403
    assert client.delete(url).status_code in (200, 204)
    accounts = client.get(f"/_sandbox/tenants/{tenant.tenant_id}/accounts").json["items"]
    assert tenant.account_id not in [a["account_id"] for a in accounts]


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8080",
        "127.0.0.1.evil.example",
        "localhost.evil.example",
        "10.0.0.8",
        "[fe80::1]:8080",
    ],
)
@pytest.mark.parametrize(
    "path", ["/_sandbox/tenants", "/_sandbox/health", "/no/such/route", "/integrated-payments/v1/bankslips/receipts"]
)
def test_a_foreign_host_is_refused_on_every_path(client, host, path):
    response = client.get(path, headers={"Host": host})
    assert response.status_code == 403
    assert response.json["code"] == "GATEWAY_403" and "PISMO_SANDBOX_ALLOWED_HOSTS" in response.json["details"]


@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:8080", "127.0.0.1:8080", "127.1.2.3", "[::1]:8080", "app.localhost:9000", "LOCALHOST"],
)
def test_loopback_hosts_are_served(client, host):
    assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize(
    "origin", ["null", EVIL, "http://localhost.evil.example", "http://localhost:1", "file://", "http://127.0.0.1:8081"]
)
def test_an_origin_other_than_the_sandbox_itself_is_refused(client, tenant, origin):
    response = client.post("/_sandbox/tenants", json={}, headers={"Origin": origin, "Host": "127.0.0.1:8080"})
    assert response.status_code == 403
    assert _tenants(client) == [tenant.tenant_id]


def test_the_sandbox_own_origin_is_served(client):
    response = client.post(
        "/_sandbox/tenants", json={}, headers={"Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:8080"}
    )
    assert response.status_code == 201


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    label=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    tld=st.sampled_from(["com", "example", "io", "test", "internal", "local"]),
)
def test_no_rebindable_name_is_served(client, label, tld):
    response = client.post("/_sandbox/reset", headers={**JSON, "Host": f"{label}.{tld}"})
    assert response.status_code == 403


def test_allowed_hosts_and_origins_widen_what_is_served(db_path):
    client = create_app(
        Config(db_path=db_path, allowed_hosts="sandbox.internal, ci-box", allowed_origins="https://dash.example")
    ).test_client()
    assert client.get("/_sandbox/health", headers={"Host": "sandbox.internal:8080"}).status_code == 200
    assert client.get("/_sandbox/health", headers={"Host": "CI-BOX"}).status_code == 200
    assert client.get("/_sandbox/health", headers={"Host": "other.internal"}).status_code == 403
    assert client.post("/_sandbox/tenants", json={}, headers={"Origin": "https://dash.example"}).status_code == 201
    assert client.post("/_sandbox/tenants", json={}, headers={"Origin": "http://dash.example"}).status_code == 403
    # Same-origin requests of an allowed host are served too.
    assert (
        client.post(
            "/_sandbox/tenants",
            json={},
            headers={"Host": "sandbox.internal:8080", "Origin": "http://sandbox.internal:8080"},
        ).status_code
        == 201
    )


def test_a_star_allows_any_host_and_origin(db_path):
    client = create_app(Config(db_path=db_path, allowed_hosts="*", allowed_origins="*")).test_client()
    response = client.post("/_sandbox/tenants", json={}, headers={"Host": "evil.example", "Origin": EVIL})
    assert response.status_code == 201


def test_allowed_hosts_and_origins_come_from_the_environment(db_path):
    config = Config.from_env(
        {"PISMO_SANDBOX_ALLOWED_HOSTS": "a.test", "PISMO_SANDBOX_ALLOWED_ORIGINS": "https://b.test"}, db_path=db_path
    )
    client = create_app(config).test_client()
    assert (
        client.post("/_sandbox/tenants", json={}, headers={"Host": "a.test", "Origin": "https://b.test"}).status_code
        == 201
    )


def test_a_route_outside_the_contract_is_guarded_too(config):
    # Anything mounted besides the contract (a dashboard under /_sandbox/ui) gets the same checks.
    app = create_app(config)
    app.add_url_rule("/_sandbox/ui/ping", "ui_ping", lambda: {"pong": True}, methods=["GET", "POST"])
    client = app.test_client()
    assert client.get("/_sandbox/ui/ping").status_code == 200
    assert client.get("/_sandbox/ui/ping", headers={"Host": "evil.example"}).status_code == 403
    assert client.post("/_sandbox/ui/ping", json={}, headers={"Origin": EVIL}).status_code == 403
    refused = client.post("/_sandbox/ui/ping", data="x", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415 and refused.json["code"] == "GATEWAY_415"
    assert client.post("/_sandbox/ui/ping", json={}).status_code == 200
