"""Before/after CPU per request of a code change, in-process or served, alternated.

``python -m bench.ab --before REV`` runs each scenario's requests through the simulator's WSGI
app in a fresh process (bench/inprocess.py: one thread, no server), once with the code of git
revision REV and once with the working tree, alternating the two ``--rounds`` times so that a
slow spell of a shared machine hits both sides; it prints, per scenario and side, the median and
the spread of the rounds' CPU us per request. Served req/s on a loaded machine moves by more than
most changes save; CPU per request replayed in-process does not.

Each side prepares its own fixture (tenant, account, token, provider credential, bank slips)
through the app itself, on a temporary database.

``--served`` serves both sides at once as `make bench` serves the simulator (gunicorn, 2 workers x
8 threads, each on a database of its own), warms each up with 2 s of unmeasured load, and loads
one at a time with wrk (16 connections, ``--duration`` seconds), with `make bench`'s scenarios;
each side's pool of requests is prepared by a process running that side's code (a change with
a migration prepares on its own schema). Which side goes first alternates from round to round:
two servers of the same code, measured in a fixed order, differed by 2 to 4% in CPU a request
(bench/README.md, "The fourteenth round"), as much as many changes save. It prints each round,
then per scenario the medians of CPU us and req/s a side and in how many rounds the "after" side
was cheaper. Each round's pool of one-shot requests is sized as `make bench` sizes its own
(``progress.pool_size``: the side's best rate so far for ``--duration``, with headroom, at most
``--pool``); a pool run through replays its one-shot requests, which fail (each round prints its
errors).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = ("pay", "credentials", "register")


# -- one side, in its own process ---------------------------------------------------------------


def _side(scenarios: list[str], count: int) -> dict:
    import logging

    from bench import inprocess

    try:
        from bench.scenarios import CREDENTIAL_BODY
        from bench.wrk import line
    except ImportError:  # a revision from before bench/run.py was split
        from bench.run import CREDENTIAL_BODY, line  # type: ignore[attr-defined,no-redef]
    from pismo_sandbox.app import create_app
    from pismo_sandbox.config import Config
    from pismo_sandbox.logs import TEXT_FORMAT
    from pismo_sandbox.server import freeze_start_up_objects

    logger = logging.getLogger("pismo_sandbox")
    if not logger.handlers:  # as served (create_app's handler and format), written to nowhere
        handler = logging.StreamHandler(open(os.devnull, "w"))
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        logger.addHandler(handler)
    workdir = tempfile.mkdtemp(prefix="pismo-ab-")
    app = create_app(Config(db_path=os.path.join(workdir, "ab.db")))
    freeze_start_up_objects()
    client = app.test_client()

    def post(path: str, body: dict, headers: dict | None = None) -> dict:
        response = client.post(path, json=body, headers=headers or {})
        assert response.status_code < 300, (path, response.status_code, response.get_data(as_text=True))
        return response.get_json(silent=True) or {}

    tenant = post("/_sandbox/tenants", {})["tenant_id"]

    def account() -> int:
        return post(f"/_sandbox/tenants/{tenant}/accounts", {})["account_id"]

    def token(account_id: int) -> str:
        return post("/_sandbox/tokens", {"tenant_id": tenant, "account_id": account_id, "ttl_seconds": 86400})["token"]

    main_account = account()
    auth = {"Authorization": f"Bearer {token(main_account)}", "Content-Type": "application/json"}
    post("/banking-auth/v1/credentials", {"key": "bench-celcoin-key", "provider": "CELCOIN", "type": "BAAS"}, auth)

    def slip(i: int) -> dict:
        return post("/_sandbox/boletos", {"kind": "bank", "amount": round(100 + i % 9000 + 0.5, 2)})

    def lines_for(name: str, size: int) -> list[str]:
        if name == "credentials":
            return [line("POST", "/banking-auth/v1/credentials", auth, CREDENTIAL_BODY)]
        if name == "register":
            scheme = {
                "bank": "00000000",
                "branch": "186",
                "account_number": "1773065291",
                "supplementary_data": {"account_type": "CACC"},
            }
            out = []
            for _ in range(size):
                acct = account()
                head = dict(auth, Authorization=f"Bearer {token(acct)}")
                out.append(
                    line(
                        "POST",
                        f"/intl-bankaccounts/v2/accounts/{acct}/bank-accounts/brazil",
                        head,
                        {"scheme": scheme, "metadata": {"bench": True}},
                    )
                )
            return out
        out = []
        for i in range(max(size // 2, 1)):
            paid, checked = slip(2 * i), slip(2 * i + 1)
            validated = post(
                "/integrated-payments/v1/bankslips/validate",
                {"type": 1, "digitable_line": paid["digitable_line"]},
                auth,
            )
            body = {
                "account_id": main_account,
                "amount": validated["amount"],
                "bankslip": {"type": 1, "digitable_line": paid["digitable_line"]},
            }
            if validated.get("external_authorization"):
                body["external_authorization"] = validated["external_authorization"]
            out.append(
                line(
                    "POST",
                    "/integrated-payments/v1/bankslips/validate",
                    auth,
                    {"type": 1, "digitable_line": checked["digitable_line"]},
                )
            )
            out.append(
                line(
                    "POST",
                    "/integrated-payments/v1/bankslips/pay",
                    dict(auth, **{"x-idempotency-key": "ab-{{n}}"}),
                    body,
                )
            )
        return out

    results = {}
    for name in scenarios:
        lines = lines_for(name, count + inprocess.WARM_UP)
        us, failures = inprocess.cpu_us_per_request(app, lines, count)
        results[name] = {"us": round(us, 1), "failures": failures}
    return results


# -- served: both sides under gunicorn, loaded by wrk in turn -----------------------------------------


WARM_UP_S = 2


def turn_order(sides: list[str], round_number: int) -> list[str]:
    """The sides in the order a round measures them: each goes first in turn."""
    shift = round_number % len(sides)
    return sides[shift:] + sides[:shift]


def _prepare(url: str, db_path: str, scenario: str, pool: int) -> list[str]:
    """In a process with this side's code: a fixture on the served side and its pool of requests."""
    from bench.scenarios import SCENARIOS as SERVED
    from bench.scenarios import Fixture

    return SERVED[scenario](Fixture(url, db_path), pool)


def _prepared(path: pathlib.Path | None, url: str, db_path: str, scenario: str, pool: int) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ab", "--prepare", scenario, url, db_path, str(pool)],
        env=_side_env(path),
        cwd=str(ROOT),
        check=True,
        capture_output=True,
        text=True,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def served(sides: dict[str, pathlib.Path | None], scenarios: list[str], rounds: int, duration: int, pool: int) -> dict:
    """Per scenario and side, each round's (CPU us a request, req/s, errors)."""
    from bench import progress
    from bench.servers import Server, simulator_server
    from bench.wrk import run_wrk

    started: dict[str, tuple[Server, pathlib.Path | None, str]] = {}
    runs: dict[str, dict[str, list[tuple[float, float, int]]]] = {s: {side: [] for side in sides} for s in scenarios}
    try:
        for side, path in sides.items():
            db_file = pathlib.Path(tempfile.mkdtemp(prefix=f"pismo-ab-{side}-")) / "bench.db"
            server = simulator_server(db_file)
            server.env.update(_side_env(path))
            started[side] = (server.start("/_sandbox/health"), path, str(db_file))
        for s in scenarios:
            guess = progress.first_guess(s)
            warm = progress.pool_size(pool, WARM_UP_S, [], guess)
            for server, path, db_path in started.values():  # unmeasured: no side starts cold
                run_wrk(server, _prepared(path, server.url, db_path, s, warm), WARM_UP_S, 16, 2)
            for n in range(rounds):
                for side in turn_order(list(sides), n):
                    server, path, db_path = started[side]
                    size = progress.pool_size(pool, duration, [r[1] for r in runs[s][side]], guess)
                    lines = _prepared(path, server.url, db_path, s, size)
                    measure = run_wrk(server, lines, duration, 16, 2)
                    runs[s][side].append((round(measure.cpu_us_per_request), round(measure.rps), measure.errors))
                    print(
                        f"{s} round {n + 1} {side}: {measure.cpu_us_per_request:.0f} us CPU/req,"
                        f" {measure.rps:.0f} req/s" + (f", {measure.errors} errors" if measure.errors else ""),
                        flush=True,
                    )
    finally:
        for server, _path, _db in started.values():
            server.stop()
    return runs


def served_summary(runs: dict[str, dict[str, list[tuple[float, float, int]]]]) -> list[str]:
    """Per scenario: each side's median CPU us and req/s, and in how many rounds "after" cost less."""
    out = [f"{'scenario':<12} {'before us (req/s)':>20} {'after us (req/s)':>20} {'after cheaper':>14}"]
    for s, by_side in runs.items():
        before, after = by_side["before"], by_side["after"]
        cheaper = sum(1 for b, a in zip(before, after) if a[0] < b[0])
        cells = [
            f"{statistics.median(r[0] for r in rounds):>8.0f} ({statistics.median(r[1] for r in rounds):>7,.0f})"
            for rounds in (before, after)
        ]
        out.append(f"{s:<12} {cells[0]:>20} {cells[1]:>20} {f'{cheaper} of {len(before)}':>14}")
    return out


# -- the driver -----------------------------------------------------------------------------------


def _snapshot(rev: str) -> pathlib.Path:
    """The package at ``rev``, laid out as an importable ``pismo_sandbox`` under a temporary
    directory (put first on PYTHONPATH, it wins over the editable install)."""
    top = pathlib.Path(tempfile.mkdtemp(prefix="pismo-ab-src-"))
    tree = top / "tree"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    for sub in ("contracts", "scenarios", "examples"):
        if (tree / sub).exists() and not (tree / "simulator" / sub).exists():
            (tree / "simulator" / sub).symlink_to(tree / sub)
    (top / "path").mkdir()
    (top / "path" / "pismo_sandbox").symlink_to(tree / "simulator")
    return top / "path"


def _side_env(path: pathlib.Path | None) -> dict:
    """The environment of a process running a side's code (``path``; None: the working tree)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(([str(path)] if path else []) + [str(ROOT)])}


def _run_side(path: pathlib.Path | None, scenarios: list[str], count: int) -> dict:
    env = _side_env(path)
    chosen = [arg for s in scenarios for arg in ("--scenario", s)]
    out = subprocess.run(
        [sys.executable, "-m", "bench.ab", "--side", *chosen, "--count", str(count)],
        env=env,
        cwd=str(ROOT),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD", help="git revision of the 'before' side")
    parser.add_argument("--after", help="git revision of the 'after' side (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=600, help="requests replayed per scenario and round")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS)
    parser.add_argument("--served", action="store_true", help="serve both sides and load them with wrk")
    parser.add_argument("--duration", type=int, default=6, help="seconds of load a side and round (--served)")
    parser.add_argument("--pool", type=int, default=30_000, help="one-shot requests a round at most (--served)")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scenarios = args.scenario or list(SCENARIOS)
    if args.side:
        print(json.dumps(_side(scenarios, args.count)))
        return 0
    if args.prepare:
        scenario, url, db_path, pool = args.prepare
        print(json.dumps(_prepare(url, db_path, scenario, int(pool))))
        return 0
    before_path = _snapshot(args.before)
    after_path = _snapshot(args.after) if args.after else None
    if args.served:
        sides = {"before": before_path, "after": after_path}
        measured = served(sides, scenarios, args.rounds, args.duration, args.pool)
        print("\n" + "\n".join(served_summary(measured)))
        print(json.dumps(measured))
        return 0
    runs: dict[str, dict[str, list[float]]] = {s: {"before": [], "after": []} for s in scenarios}
    for n in range(args.rounds):
        for side, path in (("before", before_path), ("after", after_path)):
            result = _run_side(path, scenarios, args.count)
            for s in scenarios:
                runs[s][side].append(result[s]["us"])
                if result[s]["failures"]:
                    print(f"  {side} {s}: {result[s]['failures']} answers not 2xx", flush=True)
            print(f"round {n + 1} {side}: " + ", ".join(f"{s} {result[s]['us']}" for s in scenarios), flush=True)
    print(f"\n{'scenario':<12} {'before us/req':>22} {'after us/req':>22} {'saved':>7}")
    for s in scenarios:
        b, a = runs[s]["before"], runs[s]["after"]
        mb, ma = statistics.median(b), statistics.median(a)
        print(f"{s:<12} {mb:>8.0f} ({min(b):.0f}-{max(b):.0f}) {ma:>10.0f} ({min(a):.0f}-{max(a):.0f}) {mb - ma:>7.0f}")
    print(json.dumps(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
