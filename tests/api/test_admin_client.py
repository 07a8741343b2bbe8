"""The typed admin client (pismo_sandbox.client) over the whole admin API of a served sandbox."""

from __future__ import annotations

import pytest
import requests

from pismo_sandbox import AdminClient, AdminError


@pytest.fixture
def sandbox(served_sandbox):
    """The test process's served sandbox, reset (tests/conftest.py)."""
    return served_sandbox


@pytest.fixture
def admin(sandbox):
    return sandbox.admin


class Recorder(requests.Session):
    """Answers every request with 200 {} and keeps what was sent."""

    def __init__(self):
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        response = requests.Response()
        response.status_code, response._content, response.request = 200, b"{}", request
        return response


def test_every_state_changing_call_sends_a_json_content_type_even_without_a_body():
    recorder = Recorder()
    client = AdminClient("http://sandbox.invalid", session=recorder)

    client.request("POST", "/_sandbox/reset")
    client.request("DELETE", "/_sandbox/faults")
    client.request("PUT", "/_sandbox/tenants/T/bankslip-provider", json={"provider": "ITAU"})
    client.request("GET", "/_sandbox/tenants")

    sent = [(r.method, r.headers.get("Content-Type"), r.body) for r in recorder.sent]
    assert sent == [
        ("POST", "application/json", b"{}"),
        ("DELETE", "application/json", b"{}"),
        ("PUT", "application/json", b'{"provider": "ITAU"}'),
        ("GET", None, None),
    ]


def test_the_admin_token_goes_to_the_admin_api_and_never_to_pismo_endpoints():
    recorder = Recorder()
    client = AdminClient("http://sandbox.invalid", "admin-s3cret", session=recorder)

    client.request("GET", "/_sandbox/tenants")
    client.request("POST", "/passport/v2/s2s/access-token", json={})

    assert [r.headers.get("Authorization") for r in recorder.sent] == ["Bearer admin-s3cret", None]


def test_tenants_accounts_tokens_and_login(admin, sandbox):
    tenant = admin.create_tenant("TN-client")
    account = admin.create_account("TN-client", 300000001)
    admin.set_account_status("TN-client", 300000001, "BLOCKED")
    second = admin.create_account("TN-client")
    admin.delete_account("TN-client", second["account_id"])
    issued = admin.issue_token("TN-client", 300000001, ttl_seconds=60)
    logged_in = admin.login(tenant.server_key, tenant.server_secret, 300000001)

    assert account == {**account, "tenant_id": "TN-client", "account_id": 300000001, "status": "NORMAL"}
    assert [(a["account_id"], a["status"]) for a in admin.accounts("TN-client")] == [(300000001, "BLOCKED")]
    assert admin.tenant("TN-client")["accounts"] == 1
    assert [t["tenant_id"] for t in admin.tenants()] == ["TN-client"]
    journal = admin.journal(operation_id="post-passport-v2-s2s-access-token", limit=5)
    assert journal and journal[0]["status"] == 200 and logged_in != issued["token"]
    assert issued["account_id"] == 300000001


def test_new_account_is_a_logged_in_account_of_a_fresh_tenant(admin, sandbox):
    account = admin.new_account()

    answer = requests.get(
        f"{sandbox.base_url}/intl-bankaccounts/v2/accounts/{account.account_id}/bank-accounts/BRAZIL",
        headers=account.headers,
        timeout=5,
    )

    assert answer.status_code == 404 and answer.json()["code"] == "EIBA0029"  # authorised, nothing registered
    assert admin.accounts(account.tenant_id)[0]["status"] == "NORMAL"


def test_clock_boletos_provider_payments_and_events(admin, sandbox):
    account = admin.new_account()
    admin.freeze_clock("2025-06-02T13:00:00Z")
    setting = admin.set_bankslip_provider(account.tenant_id, "CELCOIN")
    boleto = admin.generate_boleto(amount=42.10)
    slip = {"type": boleto["type"], "bar_code": boleto["bar_code"]}
    api = sandbox.base_url + "/integrated-payments/v1/bankslips"
    validated = requests.post(api + "/validate", json=slip, headers=account.headers, timeout=5).json()
    paid = requests.post(
        api + "/pay",
        headers={**account.headers, "x-idempotency-key": "k-1"},
        timeout=5,
        json={
            "account_id": account.account_id,
            "amount": 42.10,
            "bankslip": slip,
            "external_authorization": validated["external_authorization"],
        },
    )

    clock = admin.advance_clock(days=2)

    assert paid.status_code == 202
    assert (setting["provider"], setting["source"]) == ("CELCOIN", "admin")
    assert clock == {"now": "2025-06-04T13:00:00.000Z", "frozen": True}
    assert [p["status"] for p in admin.payments(account.tenant_id)] == ["SETTLED"]
    assert admin.payments(account.tenant_id, status="PAID") == []
    statuses = [
        e["data"]["new_status"] for e in admin.events(tenant_id=account.tenant_id, type="bankslip_status_change")
    ]
    assert statuses == ["PAID", "SETTLED"]
    admin.clear_bankslip_provider(account.tenant_id)
    assert admin.bankslip_provider(account.tenant_id)["source"] is None
    assert admin.set_clock(reset=True)["frozen"] is False


def test_credentials_are_listed_without_keys(admin, sandbox):
    account = admin.new_account()
    requests.post(
        sandbox.base_url + "/banking-auth/v1/credentials",
        headers=account.headers,
        timeout=5,
        json={"key": "very-secret", "provider": "CELCOIN", "type": "BAAS"},
    )

    [credential] = admin.credentials(account.tenant_id)

    assert (credential["provider"], credential["type"], credential["version"]) == ("CELCOIN", "BAAS", 1)
    assert "very-secret" not in str(credential)


def test_fault_rules_round_trip(admin):
    rule = admin.add_fault(
        match={"operation_id": "post-credentials"},
        action={"type": "status", "status": 502},
        description="provider down",
    )
    other = admin.add_fault({"action": {"type": "delay", "ms": 10}})

    assert admin.fault(rule["id"])["description"] == "provider down"
    assert [r["id"] for r in admin.faults()] == [rule["id"], other["id"]]
    admin.delete_fault(rule["id"])
    assert [r["id"] for r in admin.faults()] == [other["id"]]
    admin.clear_faults()
    assert admin.faults() == []


def test_an_error_answer_raises_with_the_sandbox_error_code(admin):
    admin.create_tenant("TN-twice")

    with pytest.raises(AdminError) as raised:
        admin.create_tenant("TN-twice")

    assert raised.value.status == 409 and raised.value.code
    assert "POST /_sandbox/tenants -> 409" in str(raised.value)


def test_reset_deletes_everything(admin):
    admin.new_account()
    admin.add_fault(action={"type": "status", "status": 503})

    admin.reset()

    assert (admin.tenants(), admin.faults()) == ([], [])


def test_subscriptions_deliveries_and_delivery_faults_round_trip(admin):
    subscription = admin.subscribe("http://127.0.0.1:9/events", "pubsub", filter={"domain": "bankslips"})
    rule = admin.add_delivery_fault(match={"event_type": "authorization-event"}, action={"type": "duplicate"})

    assert admin.subscription(subscription["subscription_id"])["format"] == "pubsub"
    assert [s["subscription_id"] for s in admin.subscriptions()] == [subscription["subscription_id"]]
    assert [r["id"] for r in admin.delivery_faults()] == [rule["id"]]
    assert admin.deliveries(subscription_id=subscription["subscription_id"]) == []
    admin.clear_delivery_faults()
    admin.unsubscribe(subscription["subscription_id"])
    assert (admin.delivery_faults(), admin.subscriptions()) == ([], [])


def test_a_subscription_keeps_the_retry_policy_it_was_given(admin):
    subscription = admin.subscribe("http://127.0.0.1:9/events", retry={"max_attempts": 2})

    assert admin.subscription(subscription["subscription_id"])["retry"]["max_attempts"] == 2


def test_one_delivery_fault_rule_is_read_back_with_its_counters(admin):
    rule = admin.add_delivery_fault(action={"type": "drop"}, description="lose one")

    listed = admin.delivery_fault(rule["id"])

    assert (listed["id"], listed["description"], listed["matched"], listed["fired"]) == (rule["id"], "lose one", 0, 0)
    admin.delete_delivery_fault(rule["id"])
    with pytest.raises(AdminError) as raised:
        admin.delivery_fault(rule["id"])
    assert raised.value.status == 404


def test_an_in_process_client_drives_an_app_without_sockets(app):
    admin = AdminClient.in_process(app)

    tenant = admin.create_tenant("TN-inproc")
    account = admin.create_account(tenant.tenant_id, status="BLOCKED")
    with pytest.raises(AdminError) as raised:
        admin.create_tenant("TN-inproc")

    assert [(a["account_id"], a["status"]) for a in admin.accounts("TN-inproc")] == [(account["account_id"], "BLOCKED")]
    assert raised.value.status == 409 and raised.value.code
    assert admin.set_clock(now="2030-06-03T12:00:00Z", freeze=True) == {
        "now": "2030-06-03T12:00:00.000Z",
        "frozen": True,
    }
    assert [(r["method"], r["path"]) for r in admin.journal(limit=1)] == [("POST", "/_sandbox/clock")]
