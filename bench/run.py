"""`make bench`: the simulator served as `make run` serves it, and a bare Flask baseline served
the same way, loaded by wrk in one run on one machine.

Prints, per scenario, requests/s, p50/p99 latency, server CPU per request and the ratio to the
baseline, the same requests' CPU in-process (no server) for both, back to back and with a pause
before each (caches as a served request finds them), plus start-up time and memory per worker;
writes bench-results.json at the repository root. The credentials scenario also loads the floor
(bench/floor.py: the least a credential upsert can do on this stack), served the same way, to
show how close to the baseline any implementation on this stack can come. `--scale` also
preloads 1,000,000 bank slips and 100,000 accounts and compares pay and receipts latency with
the empty database.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace

import jwt
import requests

from bench import inprocess, progress

ROOT = pathlib.Path(__file__).resolve().parents[1]
LUA = ROOT / "bench" / "wrk.lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKERS, THREADS = 2, 8  # as `make run` serves


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- processes ---------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a gunicorn master and its workers."""
    total = 0.0
    for p in [pid] + _children(pid):
        try:
            fields = pathlib.Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def cpu_ticks(stat: str | None = None) -> tuple[int, int]:
    """(steal, total) jiffies of the whole machine so far, from /proc/stat's first line: steal
    is the time a virtual machine's host gave its cores to someone else (no process is charged
    for it; a run with much of it measured a slower machine)."""
    text = stat if stat is not None else pathlib.Path("/proc/stat").read_text()
    fields = [int(x) for x in text.split("\n", 1)[0].split()[1:9]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def worker_rss_mb(pid: int) -> list[float]:
    sizes = []
    for child in _children(pid):
        status = pathlib.Path(f"/proc/{child}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes.append(int(match.group(1)) / 1024)
    return sizes


class Server:
    def __init__(self, argv: list[str], port: int, env: dict | None = None):
        self.argv, self.port = argv, port
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.startup_s = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, health: str) -> "Server":
        started = time.perf_counter()
        self.process = subprocess.Popen(self.argv, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, cwd=ROOT)
        while time.perf_counter() - started < 30:
            try:
                if requests.get(self.url + health, timeout=0.5).status_code == 200:
                    self.startup_s = time.perf_counter() - started
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow to answer on a busy machine
                time.sleep(0.02)
        raise RuntimeError(f"{self.argv} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


# -- wrk ---------------------------------------------------------------------------------------

@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us_per_request: float
    steal_pct: float = 0.0


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(server: Server, lines: list[str], duration: int, connections: int, threads: int) -> Measure:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
        path = handle.name
    cpu_before, (steal_before, ticks_before) = cpu_seconds(server.process.pid), cpu_ticks()
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
                          "-s", str(LUA), server.url, "--", path, str(threads)],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server.process.pid) - cpu_before
    steal_after, ticks_after = cpu_ticks()
    os.unlink(path)
    ticks = ticks_after - ticks_before
    return replace(parse_wrk(out, cpu),
                   steal_pct=round(100 * (steal_after - steal_before) / ticks, 1) if ticks else 0.0)


def parse_wrk(out: str, cpu_seconds_used: float) -> Measure:
    """The figures of one `wrk --latency` report (plus the server CPU it cost)."""
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Measure(rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
                   p50_ms=_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
                   p99_ms=_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
                   requests=total, errors=errors, cpu_us_per_request=cpu_seconds_used / max(total, 1) * 1e6)


def median_measure(measures: list[Measure]) -> Measure:
    """Each figure's median over the rounds (a rounds' worth of requests and errors in total)."""
    mid = statistics.median
    return Measure(rps=mid([m.rps for m in measures]), p50_ms=mid([m.p50_ms for m in measures]),
                   p99_ms=mid([m.p99_ms for m in measures]), requests=sum(m.requests for m in measures),
                   errors=sum(m.errors for m in measures),
                   cpu_us_per_request=mid([m.cpu_us_per_request for m in measures]),
                   steal_pct=mid([m.steal_pct for m in measures]))


def line(method: str, path: str, headers: dict, body: dict | None = None) -> str:
    head = "||".join(f"{k}: {v}" for k, v in headers.items())
    return "\t".join([method, path, head, json.dumps(body, separators=(",", ":")) if body is not None else ""])


# -- scenarios ---------------------------------------------------------------------------------

class Fixture:
    """Tenants, accounts and tokens prepared through the admin API before measuring."""

    def __init__(self, base: str, db_path: str):
        self.base = base
        self.db_path = db_path
        self.tenant = requests.post(f"{base}/_sandbox/tenants", json={}, timeout=10).json()
        self.tenant_id = self.tenant["tenant_id"]
        self.account_id = self.account()
        self.token = self.token_for(self.account_id)
        # Bank slips need the tenant's provider: register a Celcoin BaaS credential, as a user would.
        requests.post(f"{base}/banking-auth/v1/credentials", headers=self.headers(), timeout=10,
                      json={"key": "bench-celcoin-key", "provider": "CELCOIN", "type": "BAAS"}).raise_for_status()

    def account(self) -> int:
        return requests.post(f"{self.base}/_sandbox/tenants/{self.tenant_id}/accounts", json={},
                             timeout=10).json()["account_id"]

    def token_for(self, account_id: int) -> str:
        return requests.post(f"{self.base}/_sandbox/tokens", json={
            "tenant_id": self.tenant_id, "account_id": account_id, "ttl_seconds": 86400}, timeout=10).json()["token"]

    def headers(self, token: str | None = None, **extra) -> dict:
        return {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json", **extra}


CREDENTIAL_BODY = {"key": "bench-provider-key", "provider": "CELCOIN", "type": "BAAS"}


def credentials_line(headers: dict) -> str:
    return line("POST", "/banking-auth/v1/credentials", headers, CREDENTIAL_BODY)


def scenario_credentials(fx: Fixture, size: int) -> list[str]:
    return [credentials_line(fx.headers())]


def scenario_register(fx: Fixture, size: int) -> list[str]:
    """One registration per Pismo account (a second one is a 409), so a pool of accounts and
    their tokens, made directly with the simulator's services (same database and key file)."""
    from pismo_sandbox.app import build_services
    from pismo_sandbox.config import Config

    sandbox = build_services(Config(db_path=fx.db_path))
    scheme = {"bank": "00000000", "branch": "186", "account_number": "1773065291",
              "supplementary_data": {"account_type": "CACC"}}
    out = []
    for _ in range(size):
        account = sandbox.tenancy.create_account(fx.tenant_id)["account_id"]
        token = sandbox.tokens.issue(fx.tenant_id, account, 86400).token
        out.append(line("POST", f"/intl-bankaccounts/v2/accounts/{account}/bank-accounts/brazil",
                        fx.headers(token), {"scheme": scheme, "metadata": {"bench": True}}))
    sandbox.close()
    return out


def _slips(fx: Fixture, count: int) -> list[dict]:
    slips = []
    for i in range(count):
        amount = round(100 + (i % 9000) + ((i * 7) % 90 + 10) / 100, 2)
        slips.append(requests.post(f"{fx.base}/_sandbox/boletos", json={"kind": "bank", "amount": amount},
                                   timeout=10).json())
    return slips


def _validate(fx: Fixture, slip: dict) -> dict:
    response = requests.post(f"{fx.base}/integrated-payments/v1/bankslips/validate", headers=fx.headers(),
                             json={"type": 1, "digitable_line": slip["digitable_line"]}, timeout=10)
    response.raise_for_status()
    return response.json()


def _pay_body(fx: Fixture, slip: dict, validated: dict) -> dict:
    body = {"account_id": fx.account_id, "amount": validated["amount"],
            "bankslip": {"type": 1, "digitable_line": slip["digitable_line"]}}
    if validated.get("external_authorization"):
        body["external_authorization"] = validated["external_authorization"]
    return body


def scenario_pay(fx: Fixture, size: int) -> list[str]:
    """Validate one slip, pay another, each pay under a fresh key. The paid slips were validated
    while preparing (validating one again would replace its external_authorization)."""
    half = max(size // 2, 1)
    to_pay, to_validate = _slips(fx, half), _slips(fx, half)
    out = []
    for paid, checked in zip(to_pay, to_validate):
        out.append(line("POST", "/integrated-payments/v1/bankslips/validate", fx.headers(),
                        {"type": 1, "digitable_line": checked["digitable_line"]}))
        out.append(line("POST", "/integrated-payments/v1/bankslips/pay",
                        fx.headers(**{"x-idempotency-key": "bench-{{n}}"}),
                        _pay_body(fx, paid, _validate(fx, paid))))
    return out


def scenario_receipts(fx: Fixture, size: int) -> list[str]:
    for slip in _slips(fx, 40):
        validated = _validate(fx, slip)
        requests.post(f"{fx.base}/integrated-payments/v1/bankslips/pay", json=_pay_body(fx, slip, validated),
                      headers=fx.headers(**{"x-idempotency-key": f"seed-{slip['digitable_line']}"}), timeout=10)
    return [line("GET", "/integrated-payments/v1/bankslips/receipts?perPage=20", fx.headers())]


SCENARIOS = {"pay": scenario_pay, "register": scenario_register, "credentials": scenario_credentials,
             "receipts": scenario_receipts}


# -- main ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario and target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=20000,
                        help="one-shot requests prepared per scenario and round, at most (each round prepares"
                             " what the best rate measured so far needs for --duration, with headroom)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="simulator/baseline pairs per scenario, alternating; the median is reported")
    parser.add_argument("--inprocess-pool", type=int, default=1500,
                        help="requests replayed in-process (no server) per scenario")
    parser.add_argument("--spaced-pool", type=int, default=600,
                        help="requests replayed in-process with a pause before each (0: skip)")
    parser.add_argument("--gap-ms", type=float, default=2.0,
                        help="the pause before each spaced in-process request")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--startups", type=int, default=5,
                        help="fresh starts of the simulator timed to the first served request (median reported)")
    parser.add_argument("--scale", action="store_true", help="also compare with 1M slips / 100k accounts")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    parser.add_argument("--peer", choices=["prism"],
                        help="also load a peer mock server with the credentials request (bench/peer.py)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke figure in about two minutes: " + ", ".join(
                            f"{k.replace('_', '-')} {v}" for k, v in progress.QUICK.items()))
    args = parser.parse_args(argv)
    progress.line_buffered()
    if args.quick:
        progress.apply_quick(args)
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk); `make bench` installs it", file=sys.stderr)
        return 2
    names = args.scenario or list(SCENARIOS)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="pismo-bench-"))
    baseline = reference_server("baseline")
    floor = reference_server("floor", {"BENCH_FLOOR_DB": str(workdir / "floor.db"),
                                       "BENCH_FLOOR_SECRET": secrets.token_hex(32)})
    simulator = simulator_server(workdir / "bench.db")
    results: dict = {}
    progress.say(f"timing {args.startups} fresh start(s)")
    startups = startup_times(workdir, args.startups)  # before any load, each on a fresh database
    try:
        baseline.start("/health")
        if "credentials" in names:
            floor_lines = prepare_floor(floor)
            floor.start("/health")
        simulator.start("/_sandbox/health")
        progress.say("servers up; preparing the fixture")
        fixture = Fixture(simulator.url, str(workdir / "bench.db"))
        sim_app = _inprocess_app(str(workdir / "bench.db"))
        from bench.baseline import app as baseline_app
        for name in names:
            sims, bases, floors, measured_rps = [], [], [], []
            load = (args.duration, args.connections, args.threads)
            for n in range(args.rounds):  # alternate, so a slow spell of the machine hits both
                pool = progress.pool_size(args.pool, args.duration, measured_rps)
                progress.say(f"{name} round {n + 1}/{args.rounds}: preparing its requests (one-shot: {pool})")
                lines = SCENARIOS[name](fixture, pool)  # one-shot requests: a fresh pool per round
                sims.append(run_wrk(simulator, lines, *load))
                measured_rps.append(sims[-1].rps)
                bases.append(run_wrk(baseline, lines, *load))
                if name == "credentials":
                    floors.append(run_wrk(floor, floor_lines, *load))
                progress.say(f"{name} round {n + 1}/{args.rounds}: simulator {sims[-1].rps:.0f} req/s"
                             f" {sims[-1].cpu_us_per_request:.0f} us CPU/req, baseline {bases[-1].rps:.0f} req/s"
                             f" {bases[-1].cpu_us_per_request:.0f} us CPU/req"
                             + (f", {sims[-1].errors} errors" if sims[-1].errors else ""))
            sim, base = median_measure(sims), median_measure(bases)
            results[name] = {**asdict(sim), "baseline_rps": base.rps,
                             "baseline_cpu_us_per_request": base.cpu_us_per_request,
                             "ratio_to_baseline": round(sim.rps / base.rps, 3) if base.rps else None,
                             "cpu_ratio_to_baseline": progress.cpu_ratio(base.cpu_us_per_request,
                                                                         sim.cpu_us_per_request),
                             "p99_over_p50": round(sim.p99_ms / sim.p50_ms, 2) if sim.p50_ms else None}
            if floors:
                least = median_measure(floors)
                results[name].update({"floor_rps": least.rps, "floor_cpu_us_per_request": least.cpu_us_per_request,
                                      "floor_errors": least.errors,
                                      "floor_ratio_to_baseline": round(least.rps / base.rps, 3) if base.rps else None})
            apps = (fixture, name, sim_app, baseline_app)
            progress.say(f"{name}: in-process replay")
            app_us, base_us, failures = _replayed(*apps, args.inprocess_pool)
            results[name].update({"inprocess_cpu_us_per_request": app_us, "inprocess_failures": failures,
                                  "baseline_inprocess_cpu_us_per_request": base_us})
            if args.spaced_pool:
                app_us, base_us, more = _replayed(*apps, args.spaced_pool, args.gap_ms / 1000)
                results[name].update({"inprocess_spaced_cpu_us_per_request": app_us,
                                      "inprocess_failures": failures + more,
                                      "baseline_inprocess_spaced_cpu_us_per_request": base_us})
        if args.peer == "prism" and "credentials" in results:
            _peer_prism(results["credentials"], simulator.url, fixture, args)
        meta = {"startup_s": round(statistics.median(startups or [simulator.startup_s]), 3),
                "startup_s_runs": [round(s, 3) for s in startups],
                "worker_rss_mb": [round(x, 1) for x in worker_rss_mb(simulator.process.pid)],
                "workers": WORKERS, "threads": THREADS, "connections": args.connections,
                "duration_s": args.duration, "rounds": args.rounds, "cpus": os.cpu_count(),
                "spaced_gap_ms": args.gap_ms if args.spaced_pool else None}
    finally:
        simulator.stop()
        baseline.stop()
        floor.stop()
    if args.scale:
        progress.say("scale comparison")
        from bench.scale import compare_scale
        meta["scale"] = compare_scale(workdir, args)
    pathlib.Path(args.output).write_text(json.dumps({"scenarios": results, "meta": meta}, indent=2) + "\n")
    print_table(results, meta)
    return 0


def _peer_prism(result: dict, simulator_url: str, fixture: Fixture, args) -> None:
    """Prism's mock server on the same document, the same credentials request, ``--rounds`` runs
    after the simulator's (median): ``peer_prism_rps``, ``peer_prism_cpu_us_per_request``."""
    from bench.peer import PrismServer, prism_binary, served_document

    binary = prism_binary(progress.say)
    if binary is None:
        return
    progress.say("peer prism: loading prism mock")
    prism = PrismServer(binary, served_document(simulator_url), free_port()).start()
    try:
        runs = [run_wrk(prism, scenario_credentials(fixture, 1), args.duration, args.connections, args.threads)
                for _ in range(args.rounds)]
    finally:
        prism.stop()
    peer = median_measure(runs)
    result.update({"peer_prism_rps": peer.rps, "peer_prism_cpu_us_per_request": peer.cpu_us_per_request,
                   "peer_prism_errors": peer.errors})


def simulator_server(db: pathlib.Path) -> Server:
    """The simulator served as `make run` serves it, on ``db``, not started yet."""
    port = free_port()
    return Server([sys.executable, "-m", "pismo_sandbox", "serve", "--port", str(port), "--db", str(db),
                   "--workers", str(WORKERS), "--threads", str(THREADS)], port)


def startup_times(workdir: pathlib.Path, count: int) -> list[float]:
    """Seconds from launching `pismo-sandbox serve` (as `make run` does) to its first answered
    request, for ``count`` starts, each on a database of its own, one at a time."""
    times = []
    for n in range(count):
        server = simulator_server(workdir / f"startup-{n}.db")
        try:
            times.append(server.start("/_sandbox/health").startup_s)
        finally:
            server.stop()
    return times


def reference_server(name: str, env: dict | None = None) -> Server:
    """One of the bench's reference apps (bench/serve_app.py), not started yet."""
    port = free_port()
    return Server([sys.executable, "-m", "bench.serve_app", str(port), str(WORKERS), str(THREADS), name],
                  port, env)


def prepare_floor(floor: Server) -> list[str]:
    """The floor's tables and tenant, and the credentials scenario's request with a token the
    floor accepts (same body as the simulator's)."""
    from bench.floor import prepare

    tenant_id = "bench-floor-tenant"
    prepare(floor.env["BENCH_FLOOR_DB"], tenant_id)
    token = jwt.encode({"tenant_id": tenant_id, "exp": int(time.time()) + 86400},
                       floor.env["BENCH_FLOOR_SECRET"], algorithm="HS256")
    return [credentials_line({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})]


def _replayed(fixture: Fixture, name: str, sim_app, baseline_app, pool: int,
              gap_s: float = 0.0) -> tuple[float, float, int]:
    """A fresh pool of the scenario's requests replayed in-process: the simulator's and the
    baseline's CPU us per request, and how many of the simulator's answers were not 2xx."""
    lines = SCENARIOS[name](fixture, pool + inprocess.WARM_UP)
    app_us, failures = inprocess.cpu_us_per_request(sim_app, lines, pool, gap_s=gap_s)
    base_us, _ = inprocess.cpu_us_per_request(baseline_app, lines, pool, gap_s=gap_s)
    return round(app_us, 1), round(base_us, 1), failures


def _inprocess_app(db_path: str):
    """The simulator's app in this process, on the served database, logging as served (the
    access log formatted and written, to nowhere) and with start-up objects frozen as served."""
    import logging

    from pismo_sandbox.app import create_app
    from pismo_sandbox.config import Config
    from pismo_sandbox.server import freeze_start_up_objects

    from pismo_sandbox.logs import TEXT_FORMAT

    logger = logging.getLogger("pismo_sandbox")
    if not logger.handlers:  # create_app's handler and format, written to nowhere
        handler = logging.StreamHandler(open(os.devnull, "w"))
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        logger.addHandler(handler)
    app = create_app(Config(db_path=db_path))
    freeze_start_up_objects()  # as a served worker does once its app is built
    return app


def print_table(results: dict, meta: dict) -> None:
    print(f"\n{'scenario':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} "
          f"{'baseline':>9} {'ratio':>6} {'CPU ratio':>10} {'errors':>7} {'steal %':>8}")
    for name, r in results.items():
        cpu_ratio = r.get("cpu_ratio_to_baseline")
        print(f"{name:<12} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['cpu_us_per_request']:>11.0f} {r['baseline_rps']:>9.0f} {r['ratio_to_baseline']:>6.2f} "
              f"{cpu_ratio if cpu_ratio is not None else float('nan'):>10.2f} {r['errors']:>7} {r['steal_pct']:>8.1f}")
    gap = f"{meta.get('spaced_gap_ms') or 0:g} ms apart"
    columns = [("served", lambda r: r["cpu_us_per_request"]),
               ("in-process", lambda r: r["inprocess_cpu_us_per_request"]),
               (gap, lambda r: r.get("inprocess_spaced_cpu_us_per_request")),
               ("serving", lambda r: r["cpu_us_per_request"] - r["inprocess_cpu_us_per_request"]),
               ("baseline served", lambda r: r["baseline_cpu_us_per_request"]),
               ("baseline in-process", lambda r: r["baseline_inprocess_cpu_us_per_request"]),
               (f"baseline {gap}", lambda r: r.get("baseline_inprocess_spaced_cpu_us_per_request"))]
    columns = [(title, figure) for title, figure in columns  # spaced columns only when measured
               if all(figure(r) is not None for r in results.values())]
    print(f"\n{'CPU us/req':<12}" + "".join(f" {title:>{len(title) + 2}}" for title, _ in columns))
    for name, r in results.items():
        print(f"{name:<12}" + "".join(f" {figure(r):>{len(title) + 2}.0f}" for title, figure in columns)
              + (f"  ({r['inprocess_failures']} in-process answers not 2xx)" if r["inprocess_failures"] else ""))
    for name, r in results.items():
        if "floor_rps" in r:
            print(f"\nfloor ({name}, the least this stack can do; bench/floor.py): {r['floor_rps']:.0f} req/s, "
                  f"{r['floor_cpu_us_per_request']:.0f} us CPU/req, ratio {r['floor_ratio_to_baseline']:.2f}"
                  + (f", {r['floor_errors']} errors" if r["floor_errors"] else ""))
    for name, r in results.items():
        if "peer_prism_rps" in r:
            print(f"peer: prism mock ({name}, same document and request): {r['peer_prism_rps']:.0f} req/s, "
                  f"{r['peer_prism_cpu_us_per_request']:.0f} us CPU/req; the simulator serves "
                  f"{r['rps'] / r['peer_prism_rps']:.1f}x its req/s; prism's CPU per request is "
                  f"{r['peer_prism_cpu_us_per_request'] / r['cpu_us_per_request']:.1f}x the simulator's"
                  + (f" ({r['peer_prism_errors']} prism answers not 2xx)" if r["peer_prism_errors"] else ""))
    runs = meta.get("startup_s_runs") or []
    spread = f" (median of {len(runs)} starts, {min(runs):.2f} to {max(runs):.2f} s)" if len(runs) > 1 else ""
    print(f"\nstart-up to first served request: {meta['startup_s']:.2f} s{spread}; "
          f"memory per worker: {', '.join(f'{m:.0f} MB' for m in meta['worker_rss_mb'])}")
    if "scale" in meta:
        for name, s in meta["scale"].items():
            print(f"{name}: p50 {s['empty_p50_ms']:.2f} ms empty vs {s['loaded_p50_ms']:.2f} ms loaded "
                  f"({s['ratio']:.2f}x)")


if __name__ == "__main__":
    sys.exit(main())
