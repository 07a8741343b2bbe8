"""A non-editable install carries everything the simulator reads at run time."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    [built] = out.glob("pismo_sandbox-*.whl")
    return zipfile.ZipFile(built)


def test_wheel_ships_every_spec_overlay_and_errata(wheel):
    names = set(wheel.namelist())
    shipped = {p.name for p in (ROOT / "contracts" / "openapi").iterdir() if p.suffix in {".json", ".yaml", ".md"}}
    assert shipped, "no spec files found in the checkout"
    for name in shipped:
        assert f"contracts/openapi/{name}" in names, name


def test_wheel_ships_the_simulator_data_files(wheel):
    names = set(wheel.namelist())
    data = {p.name for p in (ROOT / "simulator" / "data").iterdir() if p.is_file()} \
        if (ROOT / "simulator" / "data").exists() else set()
    for name in data:
        assert f"simulator/data/{name}" in names, name


def test_wheel_declares_the_console_script(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "pismo-sandbox = simulator.cli:main" in wheel.read(entry_points).decode()
