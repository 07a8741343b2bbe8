"""The admin API (/_sandbox): tenants, accounts, tokens, clock, events, journal, reset, auth."""

from __future__ import annotations

import jwt
import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config


def test_create_tenant_returns_credentials_once(client):
    response = client.post("/_sandbox/tenants", json={"tenant_id": "TN-acme"})
    assert response.status_code == 201
    assert response.json["tenant_id"] == "TN-acme"
    assert response.json["server_key"] and response.json["server_secret"]
    listed = client.get("/_sandbox/tenants").json["items"]
    assert [t["tenant_id"] for t in listed] == ["TN-acme"]
    assert "server_secret" not in listed[0]
    assert client.get("/_sandbox/tenants/TN-acme").json["accounts"] == 0


def test_tenant_ids_are_generated_when_not_given(client):
    first = client.post("/_sandbox/tenants", json={}).json["tenant_id"]
    second = client.post("/_sandbox/tenants", json={}).json["tenant_id"]
    assert first.startswith("TN-") and second.startswith("TN-") and first != second


def test_duplicate_tenant_is_409(client):
    client.post("/_sandbox/tenants", json={"tenant_id": "TN-dup"})
    response = client.post("/_sandbox/tenants", json={"tenant_id": "TN-dup"})
    assert response.status_code == 409
    assert response.json["code"] == "SANDBOX_TENANT_EXISTS"


def test_invalid_tenant_id_is_400(client):
    response = client.post("/_sandbox/tenants", json={"tenant_id": "has spaces"})
    assert response.status_code == 400
    assert response.json["details"].startswith("tenant_id: must match")


def test_unknown_tenant_is_404(client):
    assert client.get("/_sandbox/tenants/TN-nope").status_code == 404
    response = client.post("/_sandbox/tenants/TN-nope/accounts", json={})
    assert response.status_code == 404
    assert response.json["code"] == "SANDBOX_TENANT_NOT_FOUND"


def test_accounts_are_normal_by_default_and_statuses_can_change(client, sandbox):
    tenant_id = sandbox.create_tenant()["tenant_id"]
    created = client.post(f"/_sandbox/tenants/{tenant_id}/accounts", json={})
    assert created.status_code == 201 and created.json["status"] == "NORMAL"
    account_id = created.json["account_id"]
    patched = client.patch(f"/_sandbox/tenants/{tenant_id}/accounts/{account_id}", json={"status": "BLOCKED"})
    assert patched.status_code == 200 and patched.json["status"] == "BLOCKED"
    listed = client.get(f"/_sandbox/tenants/{tenant_id}/accounts").json["items"]
    assert [(a["account_id"], a["status"]) for a in listed] == [(account_id, "BLOCKED")]


def test_account_ids_can_be_chosen_and_are_unique_across_tenants(client, sandbox):
    a, b = sandbox.create_tenant()["tenant_id"], sandbox.create_tenant()["tenant_id"]
    assert sandbox.create_account(a, account_id=78123456) == 78123456
    response = client.post(f"/_sandbox/tenants/{b}/accounts", json={"account_id": 78123456})
    assert response.status_code == 409


def test_patching_another_tenants_account_is_404(client, sandbox):
    a, b = sandbox.create_tenant()["tenant_id"], sandbox.create_tenant()["tenant_id"]
    account = sandbox.create_account(a)
    response = client.patch(f"/_sandbox/tenants/{b}/accounts/{account}", json={"status": "BLOCKED"})
    assert response.status_code == 404


def test_unknown_status_is_400(client, sandbox):
    tenant_id = sandbox.create_tenant()["tenant_id"]
    response = client.post(f"/_sandbox/tenants/{tenant_id}/accounts", json={"status": "HAPPY"})
    assert response.status_code == 400


def test_admin_tokens_carry_tenant_account_and_ttl(client, tenant):
    response = client.post(
        "/_sandbox/tokens", json={"tenant_id": tenant.tenant_id, "account_id": tenant.account_id, "ttl_seconds": 60}
    )
    assert response.status_code == 201
    claims = jwt.decode(response.json["token"], options={"verify_signature": False})
    assert claims["tenant_id"] == tenant.tenant_id and claims["account_id"] == tenant.account_id
    assert claims["exp"] - claims["iat"] == 60 and claims["iss"] == "Passport"


def test_admin_token_for_unknown_account_is_404(client, tenant):
    response = client.post("/_sandbox/tokens", json={"tenant_id": tenant.tenant_id, "account_id": 1})
    assert response.status_code == 404


def test_clock_can_jump_freeze_advance_and_reset(client):
    jumped = client.post("/_sandbox/clock", json={"now": "2030-01-02T03:04:05Z", "freeze": True}).json
    assert jumped == {"now": "2030-01-02T03:04:05.000Z", "frozen": True}
    assert client.get("/_sandbox/clock").json["now"] == "2030-01-02T03:04:05.000Z"
    advanced = client.post("/_sandbox/clock", json={"advance_seconds": 86400}).json
    assert advanced["now"] == "2030-01-03T03:04:05.000Z"
    thawed = client.post("/_sandbox/clock", json={"freeze": False}).json
    assert thawed["frozen"] is False and thawed["now"].startswith("2030-01-03")
    reset = client.post("/_sandbox/clock", json={"reset": True}).json
    assert not reset["now"].startswith("2030")


def test_clock_rejects_a_bad_instant(client):
    response = client.post("/_sandbox/clock", json={"now": "yesterday"})
    assert response.status_code == 400


def test_events_are_listed_in_the_pismo_envelope_and_filtered(app, client, tenant):
    from pismo_sandbox.core import EXTENSION

    sandbox = app.extensions[EXTENSION]
    with sandbox.store.transaction() as db:
        # Events are checked against the bundled schemas as they are written: documented payloads.
        status_change = {
            "account_id": 1,
            "authorization_id": 2,
            "old_status": "PROCESSING",
            "new_status": "PAID",
            "amount": 1.0,
            "due_datetime": None,
            "payment_datetime": "2025-06-02T13:00:00.000Z",
            "update_datetime": "2025-06-02T13:00:02.000Z",
        }
        authorization = {"amount": 1.0, "authorization": {"id": 2, "code": "123456"}}
        for event, data in (
            ("bankslip_status_change", status_change),
            ("authorization-event", authorization),
            ("bankslip_status_change", status_change),
        ):
            sandbox.events.publish(
                db,
                org_id=tenant.tenant_id,
                domain="integrated-payments",
                event=event,
                data=data,
                cid="cid-1",
                now=sandbox.clock.now(),
            )
        sandbox.events.publish(
            db,
            org_id="TN-other",
            domain="x",
            event="authorization-event",
            data=authorization,
            cid=None,
            now=sandbox.clock.now(),
        )
    items = client.get(
        "/_sandbox/events", query_string={"tenant_id": tenant.tenant_id, "type": "bankslip_status_change"}
    ).json["items"]
    assert [e["event_type"] for e in items] == ["bankslip_status_change-1"] * 2
    assert set(items[0]) >= {"event_id", "schema_version", "domain", "event_type", "org_id", "cid", "timestamp", "data"}
    after = client.get("/_sandbox/events", query_string={"after": items[0]["seq"], "limit": 1}).json["items"]
    assert len(after) == 1 and after[0]["seq"] > items[0]["seq"]


def test_reset_wipes_state_but_the_sandbox_keeps_serving(client, sandbox, tenant):
    assert client.post("/_sandbox/reset", json={}).json["reset"] is True
    assert client.get("/_sandbox/tenants").json["items"] == []
    assert [e["path"] for e in sandbox.journal()] == ["/_sandbox/tenants", "/_sandbox/reset"]
    assert sandbox.tenant().tenant_id


@pytest.mark.parametrize(
    "now",
    [
        "1969-12-31T23:59:59Z",
        "1970-06-01T00:00:00Z",
        "8900-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0903-05-14T10:45:15-21:51",
    ],
)
def test_a_jump_outside_1971_to_8899_is_a_400_and_moves_nothing(client, now):
    client.post("/_sandbox/clock", json={"now": "2030-01-02T03:04:05Z", "freeze": True})
    response = client.post("/_sandbox/clock", json={"now": now, "advance_seconds": 1})
    assert (response.status_code, response.json["code"]) == (400, "SANDBOX_INVALID_REQUEST")
    assert client.get("/_sandbox/clock").json["now"] == "2030-01-02T03:04:05.000Z"


def test_an_advance_past_9000_is_a_409_and_moves_nothing(client):
    client.post("/_sandbox/clock", json={"now": "8899-06-01T00:00:00Z", "freeze": True})
    century = 3153600000
    assert client.post("/_sandbox/clock", json={"advance_seconds": century}).status_code == 200
    moved = client.get("/_sandbox/clock").json["now"]
    response = client.post("/_sandbox/clock", json={"advance_seconds": century})
    assert (response.status_code, response.json["code"]) == (409, "SANDBOX_CONFLICT")
    assert "1970-01-01" in response.json["details"] and "9000-01-01" in response.json["details"]
    assert client.get("/_sandbox/clock").json["now"] == moved
    reset_then_jump = client.post(
        "/_sandbox/clock", json={"now": "8899-06-01T00:00:00Z", "reset": True, "advance_seconds": century}
    )
    assert reset_then_jump.status_code == 200  # checked as a whole: from the jump, not from 8999


def test_at_the_edge_of_the_range_tokens_and_ttls_still_work(client, sandbox):
    client.post("/_sandbox/clock", json={"now": "8899-12-31T23:59:59Z", "freeze": True})
    assert client.post("/_sandbox/clock", json={"advance_seconds": 3153600000}).status_code == 200
    tenant = sandbox.tenant()
    response = client.post(
        "/banking-auth/v1/credentials", headers=tenant.headers, json={"key": "k", "provider": "CELCOIN", "type": "BAAS"}
    )
    assert response.status_code == 201


def test_health_reports_version_database_and_clock(client, db_path):
    body = client.get("/_sandbox/health").json
    assert body["status"] == "ok" and body["database"] == db_path and body["now"]


@pytest.fixture
def locked_client(tmp_path):
    return create_app(Config(db_path=str(tmp_path / "locked.db"), admin_token="admin-s3cret")).test_client()


def test_admin_token_protects_the_control_plane(locked_client):
    assert locked_client.get("/_sandbox/health").status_code == 401
    assert locked_client.get("/_sandbox/health", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert locked_client.get("/_sandbox/health", headers={"Authorization": "Bearer admin-s3cret"}).status_code == 200


def test_account_tokens_never_open_the_control_plane(locked_client):
    admin = {"Authorization": "Bearer admin-s3cret"}
    tenant = locked_client.post("/_sandbox/tenants", json={}, headers=admin).json
    account = locked_client.post(f"/_sandbox/tenants/{tenant['tenant_id']}/accounts", json={}, headers=admin).json
    login = locked_client.post(
        "/passport/v2/s2s/access-token",
        json={
            "server_key": tenant["server_key"],
            "server_secret": tenant["server_secret"],
            "account_id": account["account_id"],
        },
    )
    response = locked_client.get("/_sandbox/tenants", headers={"Authorization": f"Bearer {login.json['token']}"})
    assert response.status_code == 401
    assert response.json["code"] == "SANDBOX_UNAUTHORIZED"


def test_a_removed_account_is_gone_but_its_token_still_authenticates(client, sandbox, tenant):
    response = client.delete(f"/_sandbox/tenants/{tenant.tenant_id}/accounts/{tenant.account_id}")
    assert response.status_code == 204 and "Content-Type" not in response.headers
    assert client.get(f"/_sandbox/tenants/{tenant.tenant_id}/accounts").json["items"] == []
    assert client.delete(f"/_sandbox/tenants/{tenant.tenant_id}/accounts/{tenant.account_id}").status_code == 404
    # the tenant-level credentials API still accepts the (validly signed) token
    assert (
        client.post(
            "/banking-auth/v1/credentials", headers=tenant.headers, json={"key": "k", "provider": "JDPI", "type": "PIX"}
        ).status_code
        == 201
    )
