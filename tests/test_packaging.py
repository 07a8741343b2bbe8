"""A non-editable install carries everything the simulator reads at run time."""

from __future__ import annotations

import configparser
import pathlib
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# One process builds the wheel for every test here (xdist_group keeps them together).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]


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
        assert f"pismo_sandbox/contracts/openapi/{name}" in names, name


def test_wheel_ships_the_simulator_data_files(wheel):
    names = set(wheel.namelist())
    data = {p.name for p in (ROOT / "simulator" / "data").iterdir() if p.is_file()} \
        if (ROOT / "simulator" / "data").exists() else set()
    for name in data:
        assert f"pismo_sandbox/data/{name}" in names, name


def test_wheel_declares_the_console_script(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "pismo-sandbox = pismo_sandbox.cli:main" in wheel.read(entry_points).decode()


def test_every_package_in_the_checkout_is_declared():
    declared = _declared_packages()
    on_disk = {_import_name(init.parent) for folder in ("simulator", "contracts")
               for init in (ROOT / folder).rglob("__init__.py")}
    assert on_disk == declared


def test_wheel_claims_no_generic_top_level_name(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"pismo_sandbox"}


def _import_name(folder: pathlib.Path) -> str:
    relative = folder.relative_to(ROOT)
    parts = list(relative.parts)
    parts[0:1] = ["pismo_sandbox"] if parts[0] == "simulator" else ["pismo_sandbox", "contracts"]
    return ".".join(parts)


def _declared_packages() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return {line.strip() for line in parser["options"]["packages"].splitlines() if line.strip()}
