"""The app's own cost: a scenario's prepared requests replayed through a WSGI app in the bench
process, one thread, no server and no load generator.

Served CPU per request minus this is what serving costs (HTTP parsing, sockets, threads taking
turns); `make bench` reports both for the simulator and for the bare baseline. Replayed back to
back, a request finds the processor's caches warm from the one before; a served request finds
them after the load generator, the kernel and other threads have run. ``gap_s`` puts a sleep
before each request (not counted), so the core runs something else in between, as served.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable

from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

_counter = itertools.count()
WARM_UP = 20  # requests run before measuring


def environ_for(line: str) -> dict:
    """A WSGI environ for one prepared line (METHOD, PATH, headers joined by "||", body), with
    "{{n}}" made unique as wrk.lua makes it."""
    method, path, head, body = (line.split("\t") + [""] * 4)[:4]
    unique = f"inprocess-{next(_counter)}"
    headers = dict(h.split(": ", 1) for h in head.split("||") if h) if head else {}
    headers = {name: value.replace("{{n}}", unique) for name, value in headers.items()}
    builder = EnvironBuilder(
        method=method,
        path=path.split("?")[0],
        query_string=path.split("?", 1)[1] if "?" in path else None,
        headers=Headers(headers),
        data=body.replace("{{n}}", unique) or None,
    )
    environ = builder.get_environ()
    environ["bench.body"] = environ["wsgi.input"].read()
    return environ


def call(app: Callable, environ: dict) -> int:
    """Run one request through the app; its status code."""
    environ = dict(environ, **{"wsgi.input": io.BytesIO(environ["bench.body"])})
    status: list[str] = []
    for _ in app(environ, lambda line, headers, exc_info=None: status.append(line)):
        pass
    return int(status[0].split()[0])


def cpu_us_per_request(
    app: Callable, lines: list[str], count: int = 1500, rounds: int = 3, gap_s: float = 0.0
) -> tuple[float, int]:
    """Least CPU per request over ``rounds`` equal slices of ``count`` requests (after a short
    warm-up), and how many answers were not 2xx (a figure is only meaningful when that is 0).
    ``lines`` are cycled up to ``count``: a scenario of one repeatable request is one line, one
    of one-shot requests (registrations, payments) brings ``count + WARM_UP`` of its own.
    ``gap_s``: seconds slept before each request, outside the measurement."""
    environs = [environ_for(line) for line in itertools.islice(itertools.cycle(lines), count + WARM_UP)]
    warm, rest = environs[:WARM_UP], environs[WARM_UP:]
    for environ in warm:
        call(app, environ)
    size = max(len(rest) // rounds, 1)
    best, failures = float("inf"), 0
    for start in range(0, size * rounds, size):
        chunk = rest[start : start + size]
        if not chunk:
            break
        spent, failed = _replay(app, chunk, gap_s)
        failures += failed
        best = min(best, spent / len(chunk) * 1e6)
    return best, failures


def _replay(app: Callable, environs: list[dict], gap_s: float) -> tuple[float, int]:
    """CPU seconds the requests took, and how many answers were not 2xx."""
    spent, failures = 0.0, 0
    for environ in environs:
        if gap_s:
            time.sleep(gap_s)
        began = time.process_time()
        failures += not 200 <= call(app, environ) < 300
        spent += time.process_time() - began
    return spent, failures
