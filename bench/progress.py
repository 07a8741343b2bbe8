"""What `make bench` says while it runs, and how much it prepares: a progress line per phase
(flushed at once, also when the output goes to a file or a CI log), the `--quick` preset, the
size of each round's pool of one-shot requests, and the CPU ratio printed beside the req/s ratio.
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import time

_STARTED = time.monotonic()

# `--quick`: a smoke figure in about two minutes (one short round per scenario, few starts).
# (A pool of 3,000 ran dry in a quick register round at 1,034 req/s.)
QUICK = {"duration": 4, "rounds": 1, "startups": 1, "pool": 8000, "inprocess_pool": 300, "spaced_pool": 0}
# Served req/s assumed for a scenario not measured yet in this run, and the headroom given to a
# measured rate. (900 sufficed while the one-shot scenarios stayed under 1,260 req/s; on a
# quicker spell register's first round ran at 1,427 and repeated 1,740 registrations. A headroom
# of 1.6 was tried: the first rounds' pools grew by 14%, which took a slow-spell run past 10
# minutes. One wrk thread outrunning the other on its half of the pool made errors too;
# bench/wrk.lua lets a thread go on into the other's half.)
FIRST_GUESS_RPS = 1100
# Scenarios whose pool is cheap to prepare (accounts made directly, no HTTP request a line) start
# from this rate instead: register reached 1,815 req/s in a quick spell and ran a 15,400 pool dry.
# Pay starts higher too: its first round at 1,673 req/s repeated 713 of a 15,400 pool.
FIRST_GUESS_RPS_OF = {"register": 2500, "pay": 1700}
HEADROOM = 1.4
LEAST_POOL = 1000


def say(message: str) -> None:
    """One progress line, with the seconds since the bench started, written out at once."""
    print(f"[{time.monotonic() - _STARTED:6.1f} s] {message}", flush=True)


def apply_quick(args: argparse.Namespace) -> None:
    for name, value in QUICK.items():
        setattr(args, name, value)


def first_guess(scenario: str) -> float:
    """Served req/s assumed for ``scenario`` before its first round."""
    return FIRST_GUESS_RPS_OF.get(scenario, FIRST_GUESS_RPS)


def pool_size(ceiling: int, duration: float, measured_rps: list[float], first_guess: float = FIRST_GUESS_RPS) -> int:
    """One-shot requests to prepare for a round: enough for ``duration`` seconds at the best rate
    measured so far (or ``first_guess``), with headroom; never more than ``ceiling`` (--pool).
    wrk walks the pool in a circle, so a pool too small shows as errors (repeated one-shots)."""
    rate = max(measured_rps) if measured_rps else first_guess
    return min(ceiling, max(LEAST_POOL, math.ceil(rate * duration * HEADROOM)))


def cpu_ratio(baseline_cpu_us: float | None, simulator_cpu_us: float | None) -> float | None:
    """Baseline CPU per request / simulator CPU per request (1.0: as cheap as the bare app)."""
    if not baseline_cpu_us or not simulator_cpu_us:
        return None
    return round(baseline_cpu_us / simulator_cpu_us, 3)


def line_buffered() -> None:
    """Lines out as they are printed, whatever stdout is."""
    if isinstance(sys.stdout, io.TextIOWrapper):  # a text stream with reconfigure (not a test's capture)
        sys.stdout.reconfigure(line_buffering=True)
