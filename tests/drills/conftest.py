"""Fixtures of the drill tests: one served sandbox shared by every runner and CLI test (the runner
resets it before each scenario), and helpers to write scenario files."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from pismo_sandbox.drills.sandbox_process import SandboxProcess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
GOOD_CLIENT = ROOT / "examples" / "good_client.py"
NAIVE_CLIENT = ROOT / "examples" / "naive_client.py"


@pytest.fixture(scope="session")
def drill_sandbox():
    """A sandbox started the way `pismo-sandbox drill` starts it (temporary database, free port)."""
    with SandboxProcess(workers=2) as sandbox:
        yield sandbox


@pytest.fixture
def write_scenario(tmp_path):
    """write_scenario(text, name="drill.yaml") -> path of a scenario file (text is dedented)."""

    def _write(text: str, name: str = "drill.yaml") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return str(path)

    return _write
