"""A non-editable install carries everything the simulator reads at run time."""

from __future__ import annotations

import configparser
import pathlib
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# One process builds the wheel for every test here and in test_install_from_wheel.py
# (xdist_group keeps them together; tests/conftest.py, built_wheel).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]


@pytest.fixture(scope="module")
def wheel(built_wheel) -> zipfile.ZipFile:
    return zipfile.ZipFile(built_wheel)


def test_wheel_ships_every_spec_overlay_and_errata(wheel):
    names = set(wheel.namelist())
    shipped = {p.name for p in (ROOT / "contracts" / "openapi").iterdir() if p.suffix in {".json", ".yaml", ".md"}}
    assert shipped, "no spec files found in the checkout"
    for name in shipped:
        assert f"pismo_sandbox/contracts/openapi/{name}" in names, name


def test_wheel_ships_the_simulator_data_files(wheel):
    names = set(wheel.namelist())
    data = (
        {p.name for p in (ROOT / "simulator" / "data").iterdir() if p.is_file()}
        if (ROOT / "simulator" / "data").exists()
        else set()
    )
    for name in data:
        assert f"pismo_sandbox/data/{name}" in names, name


def test_wheel_declares_the_console_script(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "pismo-sandbox = pismo_sandbox.cli:main" in wheel.read(entry_points).decode()


def test_every_package_in_the_checkout_is_declared():
    declared = _declared_packages()
    on_disk = {_import_name(init.parent) for folder in FOLDERS for init in (ROOT / folder).rglob("__init__.py")}
    assert on_disk == declared


def test_wheel_ships_the_drills_and_the_example_clients(wheel):
    names = set(wheel.namelist())
    for folder, package in (("scenarios", "scenarios"), ("examples", "examples")):
        shipped = [p.name for p in (ROOT / folder).iterdir() if p.suffix in {".yaml", ".py", ".md"}]
        assert shipped
        for name in shipped:
            assert f"pismo_sandbox/{package}/{name}" in names, name


def test_wheel_registers_the_pytest_plugin(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    text = wheel.read(entry_points).decode()
    assert "[pytest11]" in text and "pismo_sandbox = pismo_sandbox.pytest_plugin" in text


def test_serving_needs_neither_schemathesis_nor_hypothesis_nor_pytest(wheel):
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    unconditional = {
        r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for r in requires
        if "extra ==" not in r
    }
    assert unconditional and not unconditional & {"schemathesis", "hypothesis", "pytest"}
    assert any(r.startswith("schemathesis") and 'extra == "contract"' in r for r in requires)
    assert any(r.startswith("pytest") and 'extra == "test"' in r for r in requires)


def test_wheel_claims_no_generic_top_level_name(wheel):
    tops = {name.split("/")[0] for name in wheel.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"pismo_sandbox"}


FOLDERS = {
    "simulator": ["pismo_sandbox"],
    "contracts": ["pismo_sandbox", "contracts"],
    "scenarios": ["pismo_sandbox", "scenarios"],
    "examples": ["pismo_sandbox", "examples"],
}


def _import_name(folder: pathlib.Path) -> str:
    relative = folder.relative_to(ROOT)
    parts = list(relative.parts)
    parts[0:1] = FOLDERS[parts[0]]
    return ".".join(parts)


def _declared_packages() -> set[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg")
    return {line.strip() for line in parser["options"]["packages"].splitlines() if line.strip()}
