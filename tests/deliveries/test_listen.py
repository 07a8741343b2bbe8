"""`pismo-sandbox listen`: a sandbox's events followed over its admin API and forwarded to a
local URL, in each format, from now on (or from the start), filtered."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading

import pytest

from pismo_sandbox.domains.deliveries.formats import pismo, sns
from pismo_sandbox.domains.deliveries.forwarder import Forwarder
from pismo_sandbox.domains.deliveries.signing import verify
from tests.deliveries.flow import Flow

pytestmark = pytest.mark.slow


def _forward_in_background(forwarder: Forwarder, **kwargs) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=forwarder.run, kwargs={"stop": stop, **kwargs}, daemon=True)
    thread.start()
    return thread, stop


def test_listen_forwards_new_events_signed_in_the_pismo_format(served_sandbox, receiver):
    server = served_sandbox
    flow = Flow(server.url)
    flow.freeze()
    old = flow.tenant()
    flow.pay(old)  # written before listening: not forwarded
    hook = receiver()
    forwarder = Forwarder(server.url, hook.url, "pismo", poll_seconds=0.05)
    forwarder.cursor = None
    thread, stop = _forward_in_background(forwarder, max_events=7)
    assert hook.wait_for(lambda: forwarder.cursor is not None)
    start = forwarder.cursor
    tenant = flow.tenant()
    flow.pay(tenant)
    flow.settle()  # both payments move: 3 + 4 new events
    thread.join(30)
    stop.set()
    every = flow.events()
    written = [e["event_id"] for e in every if e["seq"] > start]
    assert len(written) == 7 and any(e["seq"] <= start for e in every)
    posts = hook.posts()
    assert [p.json()["event_id"] for p in posts] == written
    assert all(pismo.verify(forwarder.secret, p.headers["x-sandbox-signature"], p.body) for p in posts)
    assert all("seq" not in p.json() for p in posts)


def test_listen_from_the_start_in_the_pubsub_format_with_a_filter(served_sandbox, receiver):
    server = served_sandbox
    flow = Flow(server.url)
    flow.freeze()
    tenant = flow.tenant()
    flow.pay(tenant)
    flow.settle()
    hook = receiver()
    forwarder = Forwarder(
        server.url, hook.url, "pubsub", event_filter={"event_type": "bankslip_status_change"}, poll_seconds=0.05
    )
    assert forwarder.run(max_events=2, from_start=True) == 2
    statuses = [json.loads(base64.b64decode(p.json()["message"]["data"]))["data"]["new_status"] for p in hook.posts()]
    assert statuses == ["PAID", "SETTLED"]


def test_listen_in_the_sns_format_waits_for_confirmation_and_signs(served_sandbox, receiver):
    server = served_sandbox
    flow = Flow(server.url)
    hook = receiver(confirm_sns=True)
    forwarder = Forwarder(server.url, hook.url, "sns", poll_seconds=0.05)
    thread, stop = _forward_in_background(forwarder, max_events=1)
    assert hook.wait_for(lambda: forwarder.cursor is not None)
    tenant = flow.tenant()
    flow.register_bank_account(tenant)
    thread.join(30)
    stop.set()
    [confirmation] = hook.posts("SubscriptionConfirmation")
    [notification] = hook.posts("Notification")
    message = notification.json()
    certificate = forwarder.http.get(message["SigningCertURL"]).text
    assert verify(certificate, sns.canonical(message), message["Signature"])
    assert verify(certificate, sns.canonical(confirmation.json()), confirmation.json()["Signature"])
    assert json.loads(message["Message"])["event_type"] == "intl_bankaccount_register-1"
    forwarder.close()


def test_the_listen_command_forwards_and_stops_after_max_events(served_sandbox, receiver):
    server = served_sandbox
    flow = Flow(server.url)
    flow.tenant()
    tenant = flow.tenant()
    flow.register_bank_account(tenant)
    hook = receiver()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pismo_sandbox",
            "listen",
            "--forward-to",
            hook.url,
            "--base-url",
            server.url,
            "--from-start",
            "--max-events",
            "1",
            "--secret",
            "cli-secret-1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "intl_bankaccount_register-1" in done.stdout and "-> 200" in done.stdout
    assert "1 event(s) forwarded" in done.stderr and "cli-secret-1" not in done.stdout + done.stderr
    [post] = hook.posts()
    assert pismo.verify("cli-secret-1", post.headers["x-sandbox-signature"], post.body)
