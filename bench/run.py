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
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

import jwt

from bench import budget as budgets
from bench import inprocess, progress
from bench.scale import compare_scale
from bench.scenarios import SCENARIOS, Fixture, credentials_line, scenario_credentials
from bench.servers import (
    LOOP,
    MASTER,
    OWN_THREADS,
    REQUEST_THREADS,
    ROOT,
    THREADS,
    WORKERS,
    Server,
    reference_server,
    simulator_server,
    worker_rss_mb,
)
from bench.table import print_columns
from bench.wrk import median_measure, run_wrk
from pismo_sandbox.launcher import free_port

if TYPE_CHECKING:
    from flask import Flask


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario and target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pool",
        type=int,
        default=30000,
        help="one-shot requests prepared per scenario and round, at most (each round prepares"
        " what the best rate measured so far needs for --duration, with headroom)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="simulator/baseline pairs per scenario, alternating; the median is reported",
    )
    parser.add_argument(
        "--inprocess-pool", type=int, default=1500, help="requests replayed in-process (no server) per scenario"
    )
    parser.add_argument(
        "--spaced-pool", type=int, default=600, help="requests replayed in-process with a pause before each (0: skip)"
    )
    parser.add_argument("--gap-ms", type=float, default=2.0, help="the pause before each spaced in-process request")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument(
        "--startups",
        type=int,
        default=5,
        help="fresh starts of the simulator timed to the first served request (median reported)",
    )
    parser.add_argument("--scale", action="store_true", help="also compare with 1M slips / 100k accounts")
    parser.add_argument("--output", default=str(ROOT / "bench-results.json"))
    parser.add_argument(
        "--peer", choices=["prism"], help="also load a peer mock server with the credentials request (bench/peer.py)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke figure in about two minutes: "
        + ", ".join(f"{k.replace('_', '-')} {v}" for k, v in progress.QUICK.items()),
    )
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
    floor = reference_server(
        "floor", {"BENCH_FLOOR_DB": str(workdir / "floor.db"), "BENCH_FLOOR_SECRET": secrets.token_hex(32)}
    )
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
            sims, bases, floors = [], [], []
            measured_rps: list[float] = []
            load = (args.duration, args.connections, args.threads)
            for n in range(args.rounds):  # alternate, so a slow spell of the machine hits both
                pool = progress.pool_size(args.pool, args.duration, measured_rps, progress.first_guess(name))
                progress.say(f"{name} round {n + 1}/{args.rounds}: preparing its requests (one-shot: {pool})")
                lines = SCENARIOS[name](fixture, pool)  # one-shot requests: a fresh pool per round
                sims.append(run_wrk(simulator, lines, *load))
                measured_rps.append(sims[-1].rps)
                bases.append(run_wrk(baseline, lines, *load))
                if name == "credentials":
                    floors.append(run_wrk(floor, floor_lines, *load))
                progress.say(
                    f"{name} round {n + 1}/{args.rounds}: simulator {sims[-1].rps:.0f} req/s"
                    f" {sims[-1].cpu_us_per_request:.0f} us CPU/req, baseline {bases[-1].rps:.0f} req/s"
                    f" {bases[-1].cpu_us_per_request:.0f} us CPU/req"
                    + (f", {sims[-1].errors} errors" if sims[-1].errors else "")
                )
            sim, base = median_measure(sims), median_measure(bases)
            results[name] = {
                **asdict(sim),
                "baseline_rps": base.rps,
                "baseline_cpu_us_per_request": base.cpu_us_per_request,
                "baseline_cpu_us_by_thread": base.cpu_us_by_thread,
                "ratio_to_baseline": round(sim.rps / base.rps, 3) if base.rps else None,
                "cpu_ratio_to_baseline": progress.cpu_ratio(base.cpu_us_per_request, sim.cpu_us_per_request),
                "p99_over_p50": round(sim.p99_ms / sim.p50_ms, 2) if sim.p50_ms else None,
            }
            if floors:
                least = median_measure(floors)
                results[name].update(
                    {
                        "floor_rps": least.rps,
                        "floor_cpu_us_per_request": least.cpu_us_per_request,
                        "floor_errors": least.errors,
                        "floor_ratio_to_baseline": round(least.rps / base.rps, 3) if base.rps else None,
                    }
                )
            apps = (fixture, name, sim_app, baseline_app)
            progress.say(f"{name}: in-process replay")
            app_us, base_us, failures = _replayed(*apps, args.inprocess_pool)
            results[name].update(
                {
                    "inprocess_cpu_us_per_request": app_us,
                    "inprocess_failures": failures,
                    "baseline_inprocess_cpu_us_per_request": base_us,
                }
            )
            if args.spaced_pool:
                app_us, base_us, more = _replayed(*apps, args.spaced_pool, args.gap_ms / 1000)
                results[name].update(
                    {
                        "inprocess_spaced_cpu_us_per_request": app_us,
                        "inprocess_failures": failures + more,
                        "baseline_inprocess_spaced_cpu_us_per_request": base_us,
                    }
                )
        budgets.add_budgets(results)
        if args.peer == "prism" and "credentials" in results:
            _peer_prism(results["credentials"], simulator.url, fixture, args)
        if simulator.process is None:  # started above
            raise RuntimeError("the simulator is not started")
        meta = {
            "startup_s": round(statistics.median(startups or [simulator.startup_s]), 3),
            "startup_s_runs": [round(s, 3) for s in startups],
            "worker_rss_mb": [round(x, 1) for x in worker_rss_mb(simulator.process.pid)],
            "workers": WORKERS,
            "threads": THREADS,
            "connections": args.connections,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "cpus": os.cpu_count(),
            "spaced_gap_ms": args.gap_ms if args.spaced_pool else None,
        }
    finally:
        simulator.stop()
        baseline.stop()
        floor.stop()
    if args.scale:
        progress.say("scale comparison")
        meta["scale"] = compare_scale(workdir, args)
    pathlib.Path(args.output).write_text(json.dumps({"scenarios": results, "meta": meta}, indent=2) + "\n")
    print_table(results, meta)
    return 0


def _print_threads(results: dict) -> None:
    """The served CPU per request by kind of thread (bench.servers.cpu_by_thread), the
    simulator's and, in the last two columns, the bare app's."""
    kinds = [REQUEST_THREADS, LOOP, *OWN_THREADS, MASTER]
    kinds = [kind for kind in kinds if any(r.get("cpu_us_by_thread", {}).get(kind) for r in results.values())]
    if not kinds:
        return
    columns = [(kind, "cpu_us_by_thread", kind) for kind in kinds] + [
        (f"bare app {kind}", "baseline_cpu_us_by_thread", kind) for kind in (REQUEST_THREADS, LOOP)
    ]
    print_columns(
        "by thread",
        [(title, ".0f") for title, _, _ in columns],
        [(name, [r.get(key, {}).get(kind, 0.0) for _, key, kind in columns]) for name, r in results.items()],
    )


def _peer_prism(result: dict, simulator_url: str, fixture: Fixture, args: argparse.Namespace) -> None:
    """Prism's mock server on the same document, the same credentials request, ``--rounds`` runs
    after the simulator's (median): ``peer_prism_rps``, ``peer_prism_cpu_us_per_request``."""
    from bench.peer import PrismServer, prism_binary, served_document

    binary = prism_binary(progress.say)
    if binary is None:
        return
    progress.say("peer prism: loading prism mock")
    prism = PrismServer(binary, served_document(simulator_url), free_port()).start()
    try:
        runs = [
            run_wrk(prism, scenario_credentials(fixture, 1), args.duration, args.connections, args.threads)
            for _ in range(args.rounds)
        ]
    finally:
        prism.stop()
    peer = median_measure(runs)
    result.update(
        {
            "peer_prism_rps": peer.rps,
            "peer_prism_cpu_us_per_request": peer.cpu_us_per_request,
            "peer_prism_errors": peer.errors,
        }
    )


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


def prepare_floor(floor: Server) -> list[str]:
    """The floor's tables and tenant, and the credentials scenario's request with a token the
    floor accepts (same body as the simulator's)."""
    from bench.floor import prepare

    tenant_id = "bench-floor-tenant"
    prepare(floor.env["BENCH_FLOOR_DB"], tenant_id)
    token = jwt.encode(
        {"tenant_id": tenant_id, "exp": int(time.time()) + 86400}, floor.env["BENCH_FLOOR_SECRET"], algorithm="HS256"
    )
    return [credentials_line({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})]


def _replayed(
    fixture: Fixture, name: str, sim_app: Callable, baseline_app: Callable, pool: int, gap_s: float = 0.0
) -> tuple[float, float, int]:
    """A fresh pool of the scenario's requests replayed in-process: the simulator's and the
    baseline's CPU us per request, and how many of the simulator's answers were not 2xx."""
    lines = SCENARIOS[name](fixture, pool + inprocess.WARM_UP)
    app_us, failures = inprocess.cpu_us_per_request(sim_app, lines, pool, gap_s=gap_s)
    base_us, _ = inprocess.cpu_us_per_request(baseline_app, lines, pool, gap_s=gap_s)
    return round(app_us, 1), round(base_us, 1), failures


def _inprocess_app(db_path: str) -> Flask:
    """The simulator's app in this process, on the served database, logging as served (the
    access log formatted and written, to nowhere) and with start-up objects frozen as served."""
    from pismo_sandbox import logs
    from pismo_sandbox.app import create_app
    from pismo_sandbox.config import Config
    from pismo_sandbox.server import freeze_start_up_objects

    config = Config(db_path=db_path)
    logs.configure(config.log_level, config.log_format, open(os.devnull, "w"))  # as served, to nowhere
    app = create_app(config)
    freeze_start_up_objects()  # as a served worker does once its app is built
    return app


def print_table(results: dict, meta: dict) -> None:
    print(
        f"\n{'scenario':<12} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} "
        f"{'baseline':>9} {'ratio':>6} {'CPU ratio':>10} {'errors':>7} {'steal %':>8}"
    )
    for name, r in results.items():
        cpu_ratio = r.get("cpu_ratio_to_baseline")
        print(
            f"{name:<12} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['cpu_us_per_request']:>11.0f} {r['baseline_rps']:>9.0f} {r['ratio_to_baseline']:>6.2f} "
            f"{cpu_ratio if cpu_ratio is not None else float('nan'):>10.2f} {r['errors']:>7} {r['steal_pct']:>8.1f}"
        )
    gap = f"{meta.get('spaced_gap_ms') or 0:g} ms apart"
    columns = [
        ("served", lambda r: r["cpu_us_per_request"]),
        ("in-process", lambda r: r["inprocess_cpu_us_per_request"]),
        (gap, lambda r: r.get("inprocess_spaced_cpu_us_per_request")),
        ("serving", lambda r: r["cpu_us_per_request"] - r["inprocess_cpu_us_per_request"]),
        ("baseline served", lambda r: r["baseline_cpu_us_per_request"]),
        ("baseline in-process", lambda r: r["baseline_inprocess_cpu_us_per_request"]),
        (f"baseline {gap}", lambda r: r.get("baseline_inprocess_spaced_cpu_us_per_request")),
    ]
    columns = [
        (title, figure)
        for title, figure in columns  # spaced columns only when measured
        if all(figure(r) is not None for r in results.values())
    ]
    print_columns(
        "CPU us/req",
        [(title, ".0f") for title, _ in columns],
        [(name, [figure(r) for _, figure in columns]) for name, r in results.items()],
        {
            name: f"  ({r['inprocess_failures']} in-process answers not 2xx)"
            for name, r in results.items()
            if r["inprocess_failures"]
        },
    )
    _print_threads(results)
    budgets.print_budget(results)
    for name, r in results.items():
        if "floor_rps" in r:
            print(
                f"\nfloor ({name} written plainly, a synchronous journal; bench/floor.py): "
                f"{r['floor_rps']:.0f} req/s, "
                f"{r['floor_cpu_us_per_request']:.0f} us CPU/req, ratio {r['floor_ratio_to_baseline']:.2f}"
                + (f", {r['floor_errors']} errors" if r["floor_errors"] else "")
            )
    for name, r in results.items():
        if "peer_prism_rps" in r:
            print(
                f"peer: prism mock ({name}, same document and request): {r['peer_prism_rps']:.0f} req/s, "
                f"{r['peer_prism_cpu_us_per_request']:.0f} us CPU/req; the simulator serves "
                f"{r['rps'] / r['peer_prism_rps']:.1f}x its req/s; prism's CPU per request is "
                f"{r['peer_prism_cpu_us_per_request'] / r['cpu_us_per_request']:.1f}x the simulator's"
                + (f" ({r['peer_prism_errors']} prism answers not 2xx)" if r["peer_prism_errors"] else "")
            )
    runs = meta.get("startup_s_runs") or []
    spread = f" (median of {len(runs)} starts, {min(runs):.2f} to {max(runs):.2f} s)" if len(runs) > 1 else ""
    print(
        f"\nstart-up to first served request: {meta['startup_s']:.2f} s{spread}; "
        f"memory per worker: {', '.join(f'{m:.0f} MB' for m in meta['worker_rss_mb'])}"
    )
    if "scale" in meta:
        for name, s in meta["scale"].items():
            if name == "preloaded":
                print(f"scale: preloaded in the requests' own tenant and account: {s}")
                continue
            print(
                f"{name}: p50 {s['empty_p50_ms']:.2f} ms empty vs {s['loaded_p50_ms']:.2f} ms loaded "
                f"({s['ratio']:.2f}x); CPU {s['empty_cpu_us_per_request']} vs "
                f"{s['loaded_cpu_us_per_request']} us/req ({s['cpu_ratio']:.2f}x)"
                + (
                    f"; errors {s['empty_errors']} empty, {s['loaded_errors']} loaded"
                    if s.get("empty_errors") or s.get("loaded_errors")
                    else ""
                )
            )


if __name__ == "__main__":
    sys.exit(main())
