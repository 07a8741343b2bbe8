"""A peer row for `make bench --peer prism`: Stoplight Prism's mock server (`prism mock`) on the
same bundled document the simulator serves, loaded with the same credentials request, one
process as Prism runs; its req/s and CPU per request beside the simulator's.

Prism comes from the npm registry, installed on demand into ``~/.cache/pismo-sandbox-bench``
when Node.js and npm exist; otherwise the row is skipped with a one-line message.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable

import requests

PRISM_PACKAGE = "@stoplight/prism-cli@5"
CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "pismo-sandbox-bench"
DOCUMENT = "banking-auth"  # the credentials scenario's document, as the simulator serves it


def prism_binary(say: Callable[[str], None]) -> pathlib.Path | None:
    """Prism's command, installed if missing; None (after saying why) when it cannot be."""
    if not (shutil.which("node") and shutil.which("npm")):
        say("peer prism skipped: Node.js and npm are not installed")
        return None
    binary = CACHE / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        say(f"installing {PRISM_PACKAGE} from the npm registry into {CACHE}")
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), PRISM_PACKAGE],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not binary.exists():
            say(f"peer prism skipped: npm install failed ({done.stderr.strip().splitlines()[-1:] or '?'})")
            return None
    return binary


class PrismServer:
    """`prism mock` on a document, on a free port of 127.0.0.1 (``pid`` for the CPU it spends)."""

    def __init__(self, binary: pathlib.Path, document: dict, port: int) -> None:
        self.port = port
        self._file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(document, self._file)
        self._file.close()
        self.process = subprocess.Popen(
            [str(binary), "mock", "-h", "127.0.0.1", "-p", str(port), self._file.name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "PrismServer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("prism mock exited at start-up")
            try:
                requests.get(self.url + "/", timeout=1)  # any answer: it is listening
                return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("prism mock did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        os.unlink(self._file.name)


def served_document(simulator_url: str) -> dict:
    """The bundled document with its overlay applied, as the simulator serves it."""
    response = requests.get(f"{simulator_url}/_sandbox/openapi/{DOCUMENT}", timeout=10)
    response.raise_for_status()
    return response.json()
