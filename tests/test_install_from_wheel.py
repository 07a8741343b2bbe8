"""The install-from-wheel path, as a new user meets it: the wheel installed with pip into a clean
virtualenv outside the checkout (pip fetches the dependencies), used from a directory outside
the checkout: serve on a free port, list and run the shipped drills by name, run a user's pytest
file that uses the plugin's fixtures, be told how to get the contract extra, and (with it) get
well-formed JUnit from a failing contract run."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# In one process with tests/test_packaging.py, which reads the same built wheel.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory, built_wheel) -> dict:
    """A virtualenv holding the wheel (and plain pytest), and a working directory; both outside
    the checkout."""
    wheel = built_wheel
    home = tmp_path_factory.mktemp("clean-venv")
    assert ROOT not in home.parents
    # pip, from outside, installs into the new environment (``pip --python``): no copy of pip is
    # bootstrapped into it, and nothing is compiled ahead (Python compiles what it imports).
    venv.EnvBuilder(with_pip=False).create(home)
    python = home / "bin" / "python"
    done = _pip_install(python, str(wheel), "pytest")
    assert done.returncode == 0, done.stdout + done.stderr
    work = tmp_path_factory.mktemp("elsewhere")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("PISMO_", "PYTEST_"))
    }
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # The installed package caches the built documents; here, not in the home of whoever runs the suite.
    env["PISMO_SANDBOX_CACHE_DIR"] = str(tmp_path_factory.mktemp("document-cache"))
    return {
        "python": str(python),
        "cli": str(home / "bin" / "pismo-sandbox"),
        "cwd": work,
        "env": env,
        "wheel": str(wheel),
    }


def _pip_install(python, *requirements: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def run(installed: dict, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(argv), cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True, timeout=timeout
    )


def test_the_installed_package_is_imported_from_the_virtualenv_not_the_checkout(installed):
    done = run(installed, installed["python"], "-c", "import pismo_sandbox; print(pismo_sandbox.__file__)")

    assert done.returncode == 0, done.stderr
    assert not done.stdout.strip().startswith(str(ROOT))
    assert run(installed, installed["python"], "-c", "import simulator").returncode != 0


def test_serve_on_a_free_port_prints_its_url(installed):
    process = subprocess.Popen(
        [installed["cli"], "serve", "--port", "0", "--db", "s.db", "--workers", "1"],
        cwd=installed["cwd"],
        env=installed["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = process.stdout.readline().strip()
        health = run(
            installed,
            installed["python"],
            "-c",
            f"from pismo_sandbox import Sandbox; print(Sandbox.connect({url!r}).admin.health()['status'])",
        )
    finally:
        process.terminate()
        process.wait(timeout=15)

    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    assert health.stdout.strip() == "ok", health.stderr


def test_the_shipped_drills_are_listed_and_run_by_name(installed):
    listed = run(installed, installed["cli"], "drill", "--list")
    ran = run(installed, installed["cli"], "drill", "lost-response-on-pay")

    assert "lost-response-on-pay" in listed.stdout and "replay-contract" in listed.stdout
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.splitlines()[0].startswith("PASS drill lost-response-on-pay")


def test_a_users_pytest_file_registers_a_bank_account_and_pays_a_boleto(installed):
    shutil.copy(ROOT / "examples" / "test_with_pismo_sandbox.py", installed["cwd"])

    done = run(
        installed, installed["python"], "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_with_pismo_sandbox.py"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_the_contract_command_says_how_to_install_its_extra(installed):
    done = run(installed, installed["cli"], "contract")

    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("pip install 'pismo-sandbox[contract]'")


def test_a_failing_contract_run_writes_junit_a_strict_parser_reads(installed):
    """Last in the module: it adds the contract extra to the virtualenv the hint test needs bare."""
    import http.server
    import threading
    import xml.dom.minidom

    extra = _pip_install(installed["python"], f"{installed['wheel']}[contract]")
    assert extra.returncode == 0, extra.stdout + extra.stderr
    # A target that speaks no Pismo at all: every answer is an HTML error page, no x-cid.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = run(
            installed,
            installed["cli"],
            "contract",
            "--base-url",
            f"http://127.0.0.1:{server.server_port}",
            "--spec",
            "passport",
            "--examples",
            "3",
            "--junit",
            "report.xml",
            "-q",
            timeout=600,
        )
    finally:
        server.shutdown()

    assert done.returncode == 1, done.stdout + done.stderr
    report = xml.dom.minidom.parse(str(installed["cwd"] / "report.xml"))
    assert report.getElementsByTagName("failure"), done.stdout
