"""Pismo operations take turns in a process (one runs at a time); the control plane does not wait
for them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

CREDENTIALS = "/banking-auth/v1/credentials"
BODY = {"key": "k", "provider": "CELCOIN", "type": "PIX"}
WAIT = 30  # seconds: only a broken implementation waits this long


def test_operations_sent_at_once_run_one_at_a_time(app, tenant):
    original = app.wsgi_app.handlers["post-credentials"]
    running, most = [0], [0]
    count = threading.Lock()

    def counted(ctx):
        with count:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # a wait that keeps the turn (as a statement does)
        try:
            return original(ctx)
        finally:
            with count:
                running[0] -= 1

    app.wsgi_app.handlers["post-credentials"] = counted
    start = threading.Barrier(6)

    def send(_: int) -> int:
        client = app.test_client()
        start.wait(WAIT)
        return client.post(CREDENTIALS, json=BODY, headers=tenant.headers).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(send, range(6)))
    assert statuses == [201] * 6
    assert most[0] == 1


def test_the_control_plane_answers_while_an_operation_has_the_turn(app, tenant, sandbox):
    original = app.wsgi_app.handlers["post-credentials"]
    inside, release = threading.Event(), threading.Event()

    def held(ctx):
        inside.set()
        release.wait(WAIT)  # keeps the turn until the test lets go
        return original(ctx)

    app.wsgi_app.handlers["post-credentials"] = held
    answered: list[int] = []
    worker = threading.Thread(
        target=lambda: answered.append(
            app.test_client().post(CREDENTIALS, json=BODY, headers=tenant.headers).status_code
        )
    )
    worker.start()
    try:
        assert inside.wait(WAIT)
        assert sandbox.create_tenant()["tenant_id"]  # the admin API writes
        assert app.test_client().get("/_sandbox/journal").status_code == 200  # and reads
        assert not answered  # the held operation is still running
    finally:
        release.set()
        worker.join(WAIT)
    assert answered == [201]
