"""At least once: failed attempts are retried with exponential backoff up to a limit, and the
delivery log shows every attempt."""

from __future__ import annotations

from pismo_sandbox.core import EXTENSION
from pismo_sandbox.launcher import free_port
from tests.deliveries.publishing import FAST, publish


def _log(client, **query) -> list[dict]:
    response = client.get("/_sandbox/deliveries", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(client, sandbox, tenant, worker, receiver):
    hook = receiver(statuses=[503, 500])
    sub = client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": FAST}).json
    event_id = publish(sandbox, tenant)
    worker.run_until_idle()
    assert [p.json()["event_id"] for p in hook.posts()] == [event_id] * 3
    [delivery] = _log(client, subscription_id=sub["subscription_id"])
    assert delivery["status"] == "delivered" and delivery["event_id"] == event_id
    assert [(a["attempt"], a["outcome"], a["http_status"]) for a in delivery["attempts"]] == [
        (1, "rejected", 503),
        (2, "rejected", 500),
        (3, "acknowledged", 200),
    ]
    assert all(a["latency_ms"] >= 0 and a["fault"] is None for a in delivery["attempts"])
    assert [p.headers["x-sandbox-delivery-attempt"] for p in hook.posts()] == ["1", "2", "3"]


def test_after_the_last_attempt_the_delivery_is_failed(client, sandbox, tenant, worker, receiver):
    hook = receiver(statuses=[500] * 10)
    client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": {**FAST, "max_attempts": 3}})
    event_id = publish(sandbox, tenant)
    worker.run_until_idle()
    assert len(hook.posts()) == 3
    [delivery] = _log(client, event_id=event_id)
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None
    assert _log(client, status="delivered") == []
    assert [d["event_id"] for d in _log(client, status="failed")] == [event_id]


def test_a_connection_error_is_an_attempt_and_is_retried(client, sandbox, tenant, worker):
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    client.post("/_sandbox/subscriptions", json={"url": dead, "retry": {**FAST, "max_attempts": 2}})
    publish(sandbox, tenant)
    worker.run_until_idle()
    [delivery] = _log(client)
    assert [a["outcome"] for a in delivery["attempts"]] == ["error", "error"]
    assert all(a["http_status"] is None and "Connection" in a["error"] for a in delivery["attempts"])


def test_a_slow_receiver_times_out_and_is_retried(client, sandbox, tenant, worker, receiver):
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    calls = []

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(1)
            self.rfile.read(int(self.headers["Content-Length"]))
            if len(calls) == 1:
                time.sleep(1.0)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client.post(
            "/_sandbox/subscriptions",
            json={"url": f"http://127.0.0.1:{server.server_address[1]}/", "retry": {**FAST, "timeout_seconds": 0.2}},
        )
        publish(sandbox, tenant)
        worker.run_until_idle()
    finally:
        server.shutdown()
        server.server_close()
    [delivery] = _log(client)
    assert [a["outcome"] for a in delivery["attempts"]] == ["timeout", "acknowledged"]
    assert delivery["attempts"][1]["http_status"] == 204


def test_backoff_grows_exponentially_up_to_its_cap(app, client, sandbox, tenant, worker, receiver):
    now = [1_000_000.0]
    app.extensions[EXTENSION].deliveries.wall = lambda: now[0]
    hook = receiver(statuses=[500] * 10)
    client.post(
        "/_sandbox/subscriptions",
        json={
            "url": hook.url,
            "retry": {"max_attempts": 6, "backoff_seconds": 1, "backoff_factor": 2, "backoff_max_seconds": 5},
        },
    )
    publish(sandbox, tenant)
    waits = []
    for _ in range(5):
        worker.run_until_idle()
        [delivery] = _log(client)
        due = delivery["next_attempt_at"]
        from pismo_sandbox.clock import parse_instant

        waits.append(parse_instant(due).timestamp() - now[0])
        now[0] = parse_instant(due).timestamp()
    assert waits == [1, 2, 4, 5, 5]
    worker.run_until_idle()
    assert _log(client)[0]["status"] == "failed" and len(hook.posts()) == 6


def test_nothing_is_sent_before_it_is_due(app, client, sandbox, tenant, worker, receiver):
    now = [2_000_000.0]
    app.extensions[EXTENSION].deliveries.wall = lambda: now[0]
    hook = receiver(statuses=[500])
    client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": {"backoff_seconds": 30}})
    publish(sandbox, tenant)
    worker.run_until_idle()
    assert len(hook.posts()) == 1
    now[0] += 29
    worker.run_until_idle()
    assert len(hook.posts()) == 1
    now[0] += 1
    worker.run_until_idle()
    assert len(hook.posts()) == 2 and _log(client)[0]["status"] == "delivered"


def test_a_removed_subscription_gets_nothing_more(client, sandbox, tenant, worker, receiver):
    hook = receiver(statuses=[500])
    sub = client.post("/_sandbox/subscriptions", json={"url": hook.url, "retry": {"backoff_seconds": 60}}).json
    publish(sandbox, tenant)
    worker.run_until_idle()
    client.delete(f"/_sandbox/subscriptions/{sub['subscription_id']}")
    assert _log(client) == []
    worker.run_until_idle()
    assert len(hook.posts()) == 1


def test_a_request_writes_only_the_event_and_the_worker_delivers_it(client, sandbox, tenant, worker, receiver):
    hook = receiver()
    client.post("/_sandbox/subscriptions", json={"url": hook.url})
    event_id = publish(sandbox, tenant)
    assert _log(client) == [] and hook.posts() == []  # nothing done on the request path
    worker.run_until_idle()
    assert [d["event_id"] for d in _log(client, status="delivered")] == [event_id]
