"""Subscriptions through the admin API: created, listed, read, removed, validated."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pismo_sandbox.config import Config


def test_a_subscription_is_created_listed_read_and_removed(client):
    made = client.post(
        "/_sandbox/subscriptions",
        json={"url": "http://127.0.0.1:9/hook", "format": "pubsub", "filter": {"domain": "integrated-payments"}},
    )
    assert made.status_code == 201, made.json
    sub_id = made.json["subscription_id"]
    assert made.json["secret"].startswith("whsec_")
    assert made.json["pubsub_subscription"].endswith(sub_id)
    listed = client.get("/_sandbox/subscriptions").json["items"]
    assert [s["subscription_id"] for s in listed] == [sub_id]
    assert "secret" not in listed[0]
    read = client.get(f"/_sandbox/subscriptions/{sub_id}").json
    assert read["filter"] == {"domain": "integrated-payments"} and "secret" not in read
    assert client.delete(f"/_sandbox/subscriptions/{sub_id}").status_code == 204
    assert client.get(f"/_sandbox/subscriptions/{sub_id}").status_code == 404
    assert client.delete(f"/_sandbox/subscriptions/{sub_id}").status_code == 404
    assert client.get("/_sandbox/subscriptions").json["items"] == []


def test_a_given_secret_is_echoed_once_and_never_listed(client):
    made = client.post("/_sandbox/subscriptions", json={"url": "http://localhost:9/", "secret": "s3cret-value"})
    assert made.json["secret"] == "s3cret-value"
    assert "s3cret-value" not in client.get("/_sandbox/subscriptions").get_data(as_text=True)


def test_an_sns_subscription_waits_for_confirmation(client):
    made = client.post("/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/", "format": "sns"}).json
    assert made["status"] == "pending_confirmation"
    assert made["subscription_arn"].startswith(made["topic_arn"] + ":")
    log = client.get("/_sandbox/deliveries", query_string={"subscription_id": made["subscription_id"]}).json
    assert [d["kind"] for d in log["items"]] == ["confirmation"]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://127.0.0.1/x"},
        {"url": "http://127.0.0.1:9/", "format": "kafka"},
        {"url": "http://127.0.0.1:9/", "filter": {"color": "red"}},
        {"url": "http://127.0.0.1:9/", "retry": {"max_attempts": 0}},
        {"url": "http://127.0.0.1:9/", "secret": "short"},
        {},
    ],
)
def test_a_malformed_subscription_is_a_400_and_nothing_is_stored(client, body):
    response = client.post("/_sandbox/subscriptions", json=body)
    assert response.status_code == 400
    assert response.json["code"] == "SANDBOX_INVALID_REQUEST"
    assert client.get("/_sandbox/subscriptions").json["items"] == []


def test_hosts_outside_the_allowed_list_are_refused(client):
    response = client.post("/_sandbox/subscriptions", json={"url": "http://example.com/hook"})
    assert response.status_code == 400
    assert response.json["code"] == "SANDBOX_INVALID_SUBSCRIPTION"
    assert "example.com" in response.json["details"]
    assert client.get("/_sandbox/subscriptions").json["items"] == []


def test_any_host_may_be_allowed_by_configuration(db_path):
    from pismo_sandbox.app import create_app

    client = create_app(Config(db_path=db_path, delivery_hosts="*")).test_client()
    assert client.post("/_sandbox/subscriptions", json={"url": "http://example.com/hook"}).status_code == 201


def test_the_backoff_cap_also_bounds_the_first_backoff(client):
    made = client.post(
        "/_sandbox/subscriptions",
        json={"url": "http://127.0.0.1:9/", "retry": {"backoff_seconds": 10, "backoff_max_seconds": 5}},
    )
    assert made.status_code == 201
    from pismo_sandbox.domains.deliveries.outbox import RetryPolicy

    assert RetryPolicy(**made.json["retry"]).backoff(1) == 5


def test_reset_removes_subscriptions(client):
    client.post("/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/"})
    assert client.post("/_sandbox/reset", json={}).status_code == 200
    assert client.get("/_sandbox/subscriptions").json["items"] == []


def test_the_admin_token_guards_subscriptions(db_path):
    from pismo_sandbox.app import create_app

    client = create_app(Config(db_path=db_path, admin_token="admintoken")).test_client()
    assert client.post("/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/"}).status_code == 401
    assert client.get("/_sandbox/deliveries").status_code == 401
    ok = client.post(
        "/_sandbox/subscriptions", json={"url": "http://127.0.0.1:9/"}, headers={"Authorization": "Bearer admintoken"}
    )
    assert ok.status_code == 201


def test_the_sns_endpoints_a_receiver_calls_need_no_admin_token(db_path):
    from pismo_sandbox.app import create_app

    client = create_app(Config(db_path=db_path, admin_token="admintoken")).test_client()
    made = client.post(
        "/_sandbox/subscriptions",
        json={"url": "http://127.0.0.1:9/", "format": "sns"},
        headers={"Authorization": "Bearer admintoken"},
    ).json
    pem = client.get("/_sandbox/sns/SimpleNotificationService-sandbox.pem")
    assert pem.status_code == 200 and pem.get_data(as_text=True).startswith("-----BEGIN CERTIFICATE-----")
    unsubscribed = client.get(
        "/_sandbox/sns", query_string={"Action": "Unsubscribe", "SubscriptionArn": made["subscription_arn"]}
    )
    assert unsubscribed.status_code == 200
    assert client.get("/_sandbox/subscriptions", headers={"Authorization": "Bearer admintoken"}).json["items"] == []


def test_serve_refuses_a_subscribe_url_it_would_never_deliver_to(tmp_path):
    from click.testing import CliRunner

    from pismo_sandbox.cli import main

    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "x.db"), "--subscribe", "http://example.com/x"])
    assert result.exit_code == 2
    assert "host example.com is not allowed" in result.output
    assert not (tmp_path / "x.db").exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
urls = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda host, port, path: f"http://{host}:{port}/{path}",
        st.sampled_from(["127.0.0.1", "localhost", "example.com", "[::1]", ""]),
        st.integers(min_value=0, max_value=70000),
        st.text(max_size=10),
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=urls,
    fmt=st.one_of(st.sampled_from(["pismo", "sns", "pubsub"]), json_values),
    extra=st.dictionaries(st.sampled_from(["filter", "secret", "retry", "color"]), json_values, max_size=2),
)
def test_any_subscription_body_is_stored_or_refused_whole_never_a_500(client, url, fmt, extra):
    response = client.post("/_sandbox/subscriptions", json={"url": url, "format": fmt, **extra})
    assert response.status_code in (201, 400), response.json
    listed = client.get("/_sandbox/subscriptions").json["items"]
    if response.status_code == 201:
        assert [s["subscription_id"] for s in listed] == [response.json["subscription_id"]]
        client.delete(f"/_sandbox/subscriptions/{response.json['subscription_id']}")
    else:
        assert listed == [] and response.json["code"] in ("SANDBOX_INVALID_REQUEST", "SANDBOX_INVALID_SUBSCRIPTION")
