"""`pismo-sandbox contract ...` run as a user runs it: a child process that starts without the
sandbox's settings from this process's environment (plus the ones a test gives)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import environ_without_settings


def run_contract(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pismo_sandbox", "contract", *args],
        env={**environ_without_settings(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
