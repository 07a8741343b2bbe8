"""wrk, the load generator: request lines in the bench's wrk.lua format, a run against a server,
and its figures (throughput, latency percentiles, CPU per request) parsed and combined."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from typing import Protocol


from bench.servers import ROOT, cpu_by_thread, cpu_seconds, cpu_ticks

LUA = ROOT / "bench" / "wrk.lua"


# -- wrk ---------------------------------------------------------------------------------------


class Served(Protocol):
    """What wrk loads: a server's URL, and its process (for the CPU it spends)."""

    @property
    def url(self) -> str: ...

    @property
    def process(self) -> subprocess.Popen | None: ...


@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us_per_request: float
    steal_pct: float = 0.0
    # the server's CPU per request by kind of thread (bench.servers.cpu_by_thread)
    cpu_us_by_thread: dict[str, float] = field(default_factory=dict)


def _found(pattern: str, text: str) -> re.Match[str]:
    """A figure of a wrk report; ValueError naming it when the report has none (wrk failed)."""
    match = re.search(pattern, text)
    if match is None:
        raise ValueError(f"no {pattern!r} in wrk's report: {text[:300]!r}")
    return match


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(\w+)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    value, unit = match.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(server: Served, lines: list[str], duration: int, connections: int, threads: int) -> Measure:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
        path = handle.name
    if server.process is None:
        raise RuntimeError(f"the server at {server.url} is not started")
    threads_before = cpu_by_thread(server.process.pid)
    cpu_before, (steal_before, ticks_before) = cpu_seconds(server.process.pid), cpu_ticks()
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(LUA),
            server.url,
            "--",
            path,
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(server.process.pid) - cpu_before
    steal_after, ticks_after = cpu_ticks()
    threads_after = cpu_by_thread(server.process.pid)
    os.unlink(path)
    ticks = ticks_after - ticks_before
    measure = parse_wrk(out, cpu)
    return replace(
        measure,
        steal_pct=round(100 * (steal_after - steal_before) / ticks, 1) if ticks else 0.0,
        cpu_us_by_thread=per_request(threads_before, threads_after, measure.requests),
    )


def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """CPU us per request of each kind of thread between two readings of cpu_by_thread."""
    return {
        kind: round((seconds - before.get(kind, 0.0)) / max(requests, 1) * 1e6, 1)
        for kind, seconds in after.items()
        if seconds > before.get(kind, 0.0)
    }


def parse_wrk(out: str, cpu_seconds_used: float) -> Measure:
    """The figures of one `wrk --latency` report (plus the server CPU it cost)."""
    total = int(_found(r"(\d+) requests in", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Measure(
        rps=float(_found(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(_found(r"\s50%\s+(\S+)", out).group(1)),
        p99_ms=_ms(_found(r"\s99%\s+(\S+)", out).group(1)),
        requests=total,
        errors=errors,
        cpu_us_per_request=cpu_seconds_used / max(total, 1) * 1e6,
    )


def median_measure(measures: list[Measure]) -> Measure:
    """Each figure's median over the rounds (a rounds' worth of requests and errors in total)."""
    mid = statistics.median
    return Measure(
        rps=mid([m.rps for m in measures]),
        p50_ms=mid([m.p50_ms for m in measures]),
        p99_ms=mid([m.p99_ms for m in measures]),
        requests=sum(m.requests for m in measures),
        errors=sum(m.errors for m in measures),
        cpu_us_per_request=mid([m.cpu_us_per_request for m in measures]),
        steal_pct=mid([m.steal_pct for m in measures]),
        cpu_us_by_thread={
            kind: mid([m.cpu_us_by_thread.get(kind, 0.0) for m in measures])
            for kind in sorted({kind for m in measures for kind in m.cpu_us_by_thread})
        },
    )


def line(method: str, path: str, headers: dict, body: dict | None = None) -> str:
    head = "||".join(f"{k}: {v}" for k, v in headers.items())
    return "\t".join([method, path, head, json.dumps(body, separators=(",", ":")) if body is not None else ""])
