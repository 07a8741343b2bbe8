"""Subscriptions in a state file: validated with positions, applied once per url, format and
filter however often the file is applied, and pushed to by a served sandbox that booted from it;
``Sandbox(subscribe=...)`` for the one-receiver case."""

from __future__ import annotations


import pytest

from pismo_sandbox.launcher import Sandbox
from pismo_sandbox.state import StateFileError, apply_state, read_state
from tests.deliveries.flow import Flow
from tests.deliveries.receiver import Receiver

STATE = """\
tenants:
  - tenant_id: TN-acme
    accounts: [{account_id: 100000001}]
subscriptions:
  - {url: "http://127.0.0.1:9/hook"}
  - url: http://127.0.0.1:9/hook
    format: pubsub
    filter: {domain: integrated-payments}
    secret: a-shared-secret
"""


def _subscriptions(services) -> list[tuple]:
    return sorted((s["url"], s["format"], tuple(sorted(s["filter"].items()))) for s in services.deliveries.list())


def test_a_state_file_subscribes_its_receivers(services, state_file):
    applied = apply_state(services, read_state(state_file()))

    assert applied.subscriptions == 2 and "2 subscription(s)" in applied.summary()
    assert _subscriptions(services) == [
        ("http://127.0.0.1:9/hook", "pismo", ()),
        ("http://127.0.0.1:9/hook", "pubsub", (("domain", "integrated-payments"),)),
    ]


def test_applying_it_again_subscribes_nothing_twice(services, state_file):
    state = read_state(state_file())
    apply_state(services, state)
    before = services.deliveries.list()

    again = apply_state(services, state)

    assert again.subscriptions == 0 and again.summary() == "nothing to change"
    assert services.deliveries.list() == before


def test_another_filter_for_the_same_url_is_another_subscription(services, state_file):
    apply_state(services, read_state(state_file()))

    apply_state(
        services,
        read_state(state_file(STATE.replace("domain: integrated-payments", "event_type: bankslip_status_change"))),
    )

    assert [f for _, fmt, f in _subscriptions(services) if fmt == "pubsub"] == [
        (("domain", "integrated-payments"),),
        (("event_type", "bankslip_status_change"),),
    ]


def test_a_subscription_made_through_the_admin_api_counts_as_already_there(services, state_file):
    services.deliveries.subscribe({"url": "http://127.0.0.1:9/hook", "format": "pismo"}, "http://127.0.0.1")

    applied = apply_state(services, read_state(state_file()))

    assert applied.subscriptions == 1 and len(services.deliveries.list()) == 2


def test_a_file_of_subscriptions_only_is_a_state_file(services, state_file):
    applied = apply_state(services, read_state(state_file("subscriptions: [{url: 'http://localhost:9/'}]\n")))

    assert applied.subscriptions == 1 and services.tenancy.list_tenants() == []


@pytest.mark.parametrize(
    "line, where",
    [
        ("  - {url: 'http://127.0.0.1:9/', format: kafka}", "subscriptions[0].format"),
        ("  - {url: 'http://127.0.0.1:9/', secret: short}", "subscriptions[0].secret"),
        ("  - {url: 'http://127.0.0.1:9/', filter: {colour: red}}", "subscriptions[0].filter.colour"),
        ("  - {format: pismo}", "subscriptions[0].url"),
    ],
)
def test_a_mistaken_subscription_is_reported_with_its_position(state_file, line, where):
    path = state_file(f"subscriptions:\n{line}\n")

    with pytest.raises(StateFileError) as raised:
        read_state(path)

    assert str(raised.value).startswith(f"{path}:2:") and where in str(raised.value)


def test_a_receiver_host_the_sandbox_does_not_push_to_stops_the_file_before_anything_is_written(services, state_file):
    path = state_file(STATE + "  - {url: 'http://example.com/hook'}\n")

    with pytest.raises(StateFileError) as raised:
        apply_state(services, read_state(path), path)

    assert str(raised.value).startswith(f"{path}: subscriptions[2].url: host example.com is not allowed")
    assert services.deliveries.list() == [] and services.tenancy.list_tenants() == []


def _authorizations(receiver: Receiver) -> list:
    return [r for r in receiver.posts() if r.json()["event_type"].startswith("authorization-event")]


@pytest.mark.slow
def test_a_sandbox_booted_from_the_file_pushes_events_to_its_receiver_once_across_restarts(tmp_path, state_file):
    receiver = Receiver().start()
    try:
        path = state_file(f"subscriptions:\n  - {{url: '{receiver.url}', secret: state-file-secret}}\n")
        db = str(tmp_path / "team.db")
        for run in (1, 2):  # the second start applies the file again to the used database
            with Sandbox(db_path=db, state=path) as sb:
                flow = Flow(sb.base_url)
                flow.pay(flow.tenant())
                assert receiver.wait_for(lambda: len(_authorizations(receiver)) >= run)
                subscriptions = sb.admin.subscriptions()
                delivered = sb.admin.deliveries(status="delivered")
                log = sb.output()
            assert len(subscriptions) == 1
        assert "nothing to change" in log
        # one authorization event per payment, each pushed once: one subscription, not two
        authorizations = _authorizations(receiver)
        assert len(authorizations) == 2 and len({r.json()["event_id"] for r in authorizations}) == 2
        assert all(d["subscription_id"] == subscriptions[0]["subscription_id"] for d in delivered)
    finally:
        receiver.stop()


@pytest.mark.slow
def test_sandbox_subscribe_pushes_every_event_to_the_given_receiver():
    receiver = Receiver().start()
    try:
        with Sandbox(subscribe=receiver.url, subscribe_format="pubsub") as sb:
            [subscription] = sb.admin.subscriptions()
            flow = Flow(sb.base_url)
            flow.pay(flow.tenant())
            assert receiver.wait_for(lambda: len(receiver.posts()) >= 1)
        assert (subscription["url"], subscription["format"]) == (receiver.url, "pubsub")
        assert "message" in receiver.posts()[0].json()
    finally:
        receiver.stop()


def test_serve_refuses_a_state_file_naming_a_receiver_it_may_not_push_to_with_exit_2(state_file, serve_with_state):
    path = state_file("subscriptions:\n  - {url: 'http://example.com/hook'}\n")

    done = serve_with_state(path)

    assert done.returncode == 2 and done.stdout == ""
    assert f"{path}: subscriptions[0].url: host example.com is not allowed" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_an_sns_receiver_subscribed_at_start_up_on_a_free_port_confirms_through_the_served_address():
    receiver = Receiver(confirm_sns=True).start()
    try:
        with Sandbox(subscribe=receiver.url, subscribe_format="sns") as sb:
            assert receiver.wait_for(lambda: receiver.posts("SubscriptionConfirmation"))
            assert receiver.wait_for(lambda: sb.admin.subscriptions()[0]["status"] == "active")
            confirmation = receiver.posts("SubscriptionConfirmation")[0].json()
            base_url = sb.base_url
    finally:
        receiver.stop()

    assert confirmation["SubscribeURL"].startswith(base_url + "/_sandbox/sns?")
    assert confirmation["SigningCertURL"].startswith(base_url + "/")
