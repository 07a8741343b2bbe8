"""Fixtures of the state-file tests: a state file written from the module's STATE (or a given
text), `pismo-sandbox serve --state` run on it (for the refusals that stop it before it
serves), and a sandbox core on a database of the test's own."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pismo_sandbox.app import build_sandbox
from pismo_sandbox.config import Config


@pytest.fixture
def state_file(tmp_path, request):
    def _write(text: str | None = None) -> str:
        path = tmp_path / "state.yaml"
        path.write_text(textwrap.dedent(text if text is not None else request.module.STATE), encoding="utf-8")
        return str(path)

    return _write


@pytest.fixture
def services(tmp_path):
    sandbox = build_sandbox(Config(db_path=str(tmp_path / "state.db")))
    yield sandbox
    sandbox.close()


@pytest.fixture
def serve_with_state(tmp_path):
    """Run `pismo-sandbox serve --state PATH` on a fresh database; the finished process (for a
    state file it refuses: it exits before it serves)."""

    def _run(path: str) -> subprocess.CompletedProcess:
        argv = [sys.executable, "-m", "pismo_sandbox", "serve", "--port", "0", "--db", str(tmp_path / "s.db")]
        return subprocess.run([*argv, "--state", str(path)], capture_output=True, text=True, timeout=60)

    return _run
