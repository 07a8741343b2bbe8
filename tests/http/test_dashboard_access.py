"""Who may see the dashboard: the admin API's rule (admin token when set) for pages, live
fragments and actions; the login cookie; actions only as JSON; no secret on any page."""

from __future__ import annotations

import base64

import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from tests.conftest import Sandbox
from tests.http._dashboard import PAGES, UI, live_html, page

ADMIN_TOKEN = "admin-s3cret-for-the-ui"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MASTER_KEY = base64.b64encode(b"m" * 32).decode()


@pytest.fixture
def locked(tmp_path):
    return create_app(
        Config(db_path=str(tmp_path / "locked.db"), admin_token=ADMIN_TOKEN, master_key=MASTER_KEY)
    ).test_client()


def _login(client, token: str = ADMIN_TOKEN, **extra):
    return client.post(f"{UI}/login", json={"token": token, **extra})


def test_without_the_admin_token_every_page_is_the_login_form_and_shows_no_state(locked):
    tenant = locked.post("/_sandbox/tenants", json={}, headers=ADMIN).json
    for name in PAGES:
        response = locked.get(f"{UI}/{name}")
        body = response.get_data(as_text=True)
        assert response.status_code == 401, name
        assert 'id="login"' in body and tenant["tenant_id"] not in body


def test_without_the_admin_token_live_fragments_and_actions_are_refused_and_change_nothing(locked):
    frozen = locked.post("/_sandbox/clock", json={"freeze": True}, headers=ADMIN).json
    refused = [
        locked.get(f"{UI}/live/journal"),
        locked.post(f"{UI}/actions/clock", json={"action": "advance", "preset": "hour"}),
        locked.post(f"{UI}/actions/faults", json={"action": {"type": "status", "status": 503}}),
    ]
    for response in refused:
        assert response.status_code == 401 and response.json["code"] == "SANDBOX_UNAUTHORIZED"
    assert locked.get("/_sandbox/faults", headers=ADMIN).json["items"] == []
    assert locked.get("/_sandbox/clock", headers=ADMIN).json == frozen


def test_the_admin_bearer_header_opens_the_dashboard_and_a_tenant_token_does_not(locked):
    admin = Sandbox(locked)
    locked.environ_base["HTTP_AUTHORIZATION"] = ADMIN["Authorization"]
    tenant = admin.tenant()
    del locked.environ_base["HTTP_AUTHORIZATION"]
    assert locked.get(f"{UI}/tenants", headers=ADMIN).status_code == 200
    assert locked.get(f"{UI}/tenants", headers=tenant.headers).status_code == 401
    assert locked.get(f"{UI}/live/tenants", headers=tenant.headers).status_code == 401


def test_a_wrong_token_sets_no_cookie(locked):
    response = _login(locked, "not-the-token")
    assert response.status_code == 401 and "Set-Cookie" not in response.headers
    assert locked.get(f"{UI}/payments").status_code == 401


def test_logging_in_sets_a_strict_http_only_cookie_that_is_not_the_token(locked):
    response = _login(locked)
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 200
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={UI}" in cookie
    assert ADMIN_TOKEN not in cookie
    for name in PAGES:
        assert locked.get(f"{UI}/{name}").status_code == 200, name
    assert locked.post(f"{UI}/actions/clock", json={"action": "freeze"}).status_code == 200
    assert locked.get("/_sandbox/clock", headers=ADMIN).json["frozen"] is True


def test_the_cookie_does_not_open_a_sandbox_with_another_admin_token(locked, tmp_path):
    _login(locked)
    cookie = locked.get_cookie("pismo_sandbox_ui", path=UI).value
    other = create_app(Config(db_path=str(tmp_path / "other.db"), admin_token="another-token")).test_client()
    other.set_cookie("pismo_sandbox_ui", cookie, path=UI)
    assert other.get(f"{UI}/payments").status_code == 401


def test_the_login_cookie_never_opens_the_admin_api(locked):
    _login(locked)
    assert locked.get("/_sandbox/tenants").status_code == 401


def test_logging_out_forgets_the_cookie(locked):
    _login(locked)
    assert locked.post(f"{UI}/logout", json={}).status_code == 200
    assert locked.get(f"{UI}/payments").status_code == 401


def test_after_login_the_page_goes_only_to_a_dashboard_path(locked):
    assert _login(locked, next=f"{UI}/faults").json["next"] == f"{UI}/faults"
    for elsewhere in ("https://example.com/", "//example.com/_sandbox/ui", "/_sandbox/tenants"):
        assert _login(locked, next=elsewhere).json["next"] == f"{UI}/payments"


def test_an_open_sandbox_needs_no_login(client):
    assert client.get(f"{UI}/payments").status_code == 200
    assert "Log out" not in client.get(f"{UI}/payments").get_data(as_text=True)


@pytest.mark.parametrize(
    "path, body",
    [
        ("/actions/clock", "action=freeze"),
        ("/actions/faults", "action.type=status&action.status=503"),
        ("/login", "token=x"),
    ],
)
def test_actions_take_json_only(client, path, body):
    response = client.post(UI + path, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json["code"] == "GATEWAY_415"  # the gateway refuses it first
    assert client.get("/_sandbox/clock").json["frozen"] is False
    assert client.get("/_sandbox/faults").json["items"] == []


def test_no_page_shows_a_secret(locked):
    """Server secrets, provider keys, the admin token and the master key never reach a page."""
    _login(locked)
    locked.environ_base["HTTP_AUTHORIZATION"] = ADMIN["Authorization"]
    admin = Sandbox(locked)
    created = admin.create_tenant()
    account_id = admin.create_account(created["tenant_id"])
    del locked.environ_base["HTTP_AUTHORIZATION"]
    token = admin.login(created, account_id)
    provider_key = "pr0vider-k3y-never-shown"
    response = locked.post(
        "/banking-auth/v1/credentials",
        headers={"Authorization": f"Bearer {token}"},
        json={"key": provider_key, "provider": "BTG", "type": "BAAS", "provider_data": {"client_id": "btg-client"}},
    )
    assert response.status_code == 201
    secrets = [created["server_secret"], provider_key, ADMIN_TOKEN, MASTER_KEY, token]
    shown = [page(locked, name) for name in PAGES] + [
        live_html(locked, name) for name in ("tenants", "payments", "journal", "events", "faults")
    ]
    assert created["tenant_id"] in shown[0] and "btg-client" in shown[0]  # the state is there...
    for html in shown:
        for secret in secrets:
            assert secret not in html  # ...its secrets are not
