"""Event delivery, measured: events delivered per second to a local receiver, and the request
path with and without a subscription in the same run (rounds alternate the two, so a slower
spell of the machine hits both).

    python -m bench.deliveries            # the measurement (about a minute)
    python -m bench.deliveries --smoke    # a few dozen requests: checks the bench runs

The simulator is served as `make run` serves it (two workers, each with its delivery thread);
the receiver is a threaded HTTP server in this process answering 204. Every request is a
bank-account registration (one event each), sent by --clients threads. Writes
bench-deliveries.json at the repository root (or --output).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from bench.servers import ROOT, Server, simulator_server
from pismo_sandbox.client import AdminClient

SCHEME = {
    "bank": "00000000",
    "branch": "186",
    "account_number": "1773065291",
    "supplementary_data": {"account_type": "CACC"},
}


class Receiver:
    """Counts pushes (distinct event ids) and when they arrived."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event_id = self.headers.get("x-sandbox-event-id") or json.loads(body).get("event_id")
                with receiver.lock:
                    receiver.arrivals.setdefault(event_id, time.perf_counter())
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)

    def wait_for(self, total: int, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while self.count() < total:
            if time.perf_counter() > deadline:
                return False
            time.sleep(0.01)
        return True

    def last_arrival(self) -> float:
        with self.lock:
            return max(self.arrivals.values())

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(server: Server, timeout: float = 60.0) -> Server:
    """Start ``server`` and wait for its first answer (patient: the machine may be busy)."""
    return server.start("/_sandbox/health", timeout=timeout)


def account_pool(base: str, db_path: str, size: int) -> list[tuple[int, str]]:
    """(account id, token) pairs, made with the simulator's services (same database and key)."""
    from pismo_sandbox.app import build_sandbox
    from pismo_sandbox.config import Config

    tenant = AdminClient(base, timeout=10).create_tenant().tenant_id
    sandbox = build_sandbox(Config(db_path=db_path, log_level="WARNING"))
    pool = []
    for _ in range(size):
        account = sandbox.tenancy.create_account(tenant)["account_id"]
        pool.append((account, sandbox.tokens.issue(tenant, account, 86400).token))
    sandbox.close()
    return pool


def register_all(base: str, pool: list[tuple[int, str]], clients: int) -> tuple[float, list[float]]:
    """Register a bank account for every account of ``pool`` with ``clients`` threads: the
    wall time and each request's latency (seconds)."""
    local = threading.local()

    def one(item: tuple[int, str]) -> float:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.trust_env = False
        account, token = item
        started = time.perf_counter()
        response = session.post(
            f"{base}/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil",
            json={"scheme": SCHEME},
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"register answered {response.status_code}: {response.text[:200]}")
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as workers:
        latencies = list(workers.map(one, pool))
    return time.perf_counter() - started, latencies


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def subscribe(base: str, url: str) -> str:
    return AdminClient(base, timeout=10).subscribe(url)["subscription_id"]


def unsubscribe(base: str, subscription_id: str) -> None:
    AdminClient(base, timeout=10).unsubscribe(subscription_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="events for the delivery throughput")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--smoke", action="store_true", help="a few dozen requests: checks the bench runs")
    parser.add_argument("--output", default=str(ROOT / "bench-deliveries.json"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.requests, args.rounds, args.clients = 40, 30, 1, 4
    results: dict = {"settings": {k: v for k, v in vars(args).items() if k != "output"}}
    with tempfile.TemporaryDirectory(prefix="pismo-bench-deliveries-") as workdir:
        db = pathlib.Path(workdir) / "bench.db"
        server = start(simulator_server(db))
        receiver = Receiver()
        try:
            pool = account_pool(server.url, str(db), args.events + 2 * args.rounds * args.requests)
            # 1. Delivery throughput: requests write events as fast as the clients can; the
            #    receiver notes when each event arrives.
            subscription = subscribe(server.url, receiver.url)
            batch, pool = pool[: args.events], pool[args.events :]
            started = time.perf_counter()
            written_s, _ = register_all(server.url, batch, args.clients)
            if not receiver.wait_for(args.events, timeout=120):
                raise RuntimeError(f"only {receiver.count()} of {args.events} events arrived")
            delivered_s = receiver.last_arrival() - started
            unsubscribe(server.url, subscription)
            results["delivery"] = {
                "events": args.events,
                "write_seconds": round(written_s, 3),
                "delivered_seconds": round(delivered_s, 3),
                "events_delivered_per_second": round(args.events / delivered_s, 1),
                "drain_after_last_write_seconds": round(delivered_s - written_s, 3),
            }
            # 2. The request path with and without a subscription, alternating.
            modes: dict[str, list[dict]] = {"no subscription": [], "one subscription": []}
            expected = args.events
            for round_no in range(args.rounds):
                order = list(modes) if round_no % 2 == 0 else list(reversed(modes))
                for mode in order:
                    batch, pool = pool[: args.requests], pool[args.requests :]
                    subscribed = subscribe(server.url, receiver.url) if mode == "one subscription" else None
                    elapsed, latencies = register_all(server.url, batch, args.clients)
                    if subscribed:
                        expected += args.requests
                        receiver.wait_for(expected, timeout=120)  # drained before the next mode
                        unsubscribe(server.url, subscribed)
                    modes[mode].append(
                        {
                            "rps": len(batch) / elapsed,
                            "p50_ms": _quantile(latencies, 0.5) * 1000,
                            "p99_ms": _quantile(latencies, 0.99) * 1000,
                        }
                    )
            results["request_path"] = {
                mode: {key: round(statistics.median(r[key] for r in rounds), 2) for key in ("rps", "p50_ms", "p99_ms")}
                for mode, rounds in modes.items()
            }
        finally:
            receiver.stop()
            server.stop()
    pathlib.Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    delivery = results["delivery"]
    print(
        f"event delivery: {delivery['events']} events, {delivery['events_delivered_per_second']} delivered/s"
        f" (written in {delivery['write_seconds']} s, all delivered {delivery['delivered_seconds']} s after"
        f" the first request)"
    )
    print(f"{'request path (register bank account)':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for mode, figures in results["request_path"].items():
        print(f"  {mode:<38} {figures['rps']:>8} {figures['p50_ms']:>8} {figures['p99_ms']:>8}")
    print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
