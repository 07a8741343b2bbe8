"""The bench's servers: the simulator served as `make run` serves it and the reference apps,
each a child process on a free port, with the CPU and memory of a gunicorn master and its
workers read from /proc."""

from __future__ import annotations

import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import requests

from pismo_sandbox.launcher import free_port, kill_group

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKERS, THREADS = 2, 8  # as `make run` serves


# -- processes ---------------------------------------------------------------------------------


def _stat(path: str | pathlib.Path) -> tuple[str, list[str]] | None:
    """A /proc stat file as (the name in parentheses, the fields after it); None if it is gone."""
    try:
        text = pathlib.Path(path).read_text()
    except OSError:
        return None
    name, rest = text.split("(", 1)[1].rsplit(")", 1)
    return name, rest.split()


def _cpu(fields: list[str]) -> float:
    """Seconds of user + system CPU in a stat file's fields (after the name)."""
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a gunicorn master's workers), from /proc."""
    out = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(entry / "stat")
            if stat is not None and int(stat[1][1]) == pid:
                out.append(int(entry.name))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a gunicorn master and its workers."""
    stats = (_stat(f"/proc/{p}/stat") for p in [pid] + children(pid))
    return sum(_cpu(stat[1]) for stat in stats if stat is not None)


# The sandbox's own background threads (pismo_sandbox.background names them for the system).
OWN_THREADS = ("journal-writer", "event-delivery", "writer-lock", "contract-warmup")
REQUEST_THREADS, LOOP, MASTER = "request threads", "gunicorn loop", "master"


def cpu_by_thread(pid: int) -> dict[str, float]:
    """CPU seconds so far of a gunicorn master and its workers, by kind of thread: each worker's
    main thread (gunicorn's loop: accepting, polling keep-alive connections, handing requests
    out), the sandbox's own background threads by name, the rest of a worker's threads (the
    request threads), and the master. Threads that ended are not counted."""
    kinds: dict[str, float] = {}
    for p in [pid] + children(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            stat = _stat(f"/proc/{p}/task/{tid}/stat")
            if stat is None:  # a thread that ended meanwhile
                continue
            name, fields = stat
            if p == pid:
                kind = MASTER
            elif int(tid) == p:
                kind = LOOP
            else:
                kind = name if name in OWN_THREADS else REQUEST_THREADS
            kinds[kind] = kinds.get(kind, 0.0) + _cpu(fields)
    return kinds


def cpu_ticks(stat: str | None = None) -> tuple[int, int]:
    """(steal, total) jiffies of the whole machine so far, from /proc/stat's first line: steal
    is the time a virtual machine's host gave its cores to someone else (no process is charged
    for it; a run with much of it measured a slower machine)."""
    text = stat if stat is not None else pathlib.Path("/proc/stat").read_text()
    fields = [int(x) for x in text.split("\n", 1)[0].split()[1:9]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def worker_rss_mb(pid: int) -> list[float]:
    sizes = []
    for child in children(pid):
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

    def start(self, health: str, timeout: float = 30.0) -> "Server":
        started = time.perf_counter()
        # its own process group: stop() can take the master and every worker down together
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
            start_new_session=True,
        )
        while time.perf_counter() - started < timeout:
            try:
                if requests.get(self.url + health, timeout=0.5).status_code == 200:
                    self.startup_s = time.perf_counter() - started
                    return self
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still booting
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.argv} did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                kill_group(self.process)


def simulator_server(db: pathlib.Path) -> Server:
    """The simulator served as `make run` serves it, on ``db``, not started yet."""
    port = free_port()
    return Server(
        [
            sys.executable,
            "-m",
            "pismo_sandbox",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
        ],
        port,
    )


def reference_server(name: str, env: dict | None = None) -> Server:
    """One of the bench's reference apps (bench/serve_app.py), not started yet."""
    port = free_port()
    return Server([sys.executable, "-m", "bench.serve_app", str(port), str(WORKERS), str(THREADS), name], port, env)
