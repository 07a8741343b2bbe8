"""The README's "Use it from your tests" and docs/python-api.md run as written; docs/ci.md's jobs
are valid YAML whose pismo-sandbox commands the CLI accepts and whose JUnit files are collected."""

from __future__ import annotations

import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from pismo_sandbox.cli import main
from tests.api.test_pytest_plugin import UNUSED_PLUGINS

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PYTHON_API = ROOT / "docs" / "python-api.md"
CI = ROOT / "docs" / "ci.md"

pytestmark = pytest.mark.slow


def blocks(text: str, language: str, section: str | None = None) -> list[str]:
    if section:
        match = re.search(rf"<!-- {section}:begin -->(.*?)<!-- {section}:end -->", text, flags=re.S)
        assert match, f"no {section} section"
        text = match.group(1)
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def run_python_block(code: str, directory: pathlib.Path) -> subprocess.CompletedProcess:
    """A block whose first line names a test_*.py file runs under pytest; any other as a script."""
    first = code.splitlines()[0]
    test_file = re.match(r"# (test_\w+\.py)", first)
    if test_file:
        (directory / test_file.group(1)).write_text(code, encoding="utf-8")
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *UNUSED_PLUGINS, test_file.group(1)]
    else:
        argv = [sys.executable, "-c", code]
    return subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("index", range(2))
def test_readme_use_from_your_tests_runs_as_written(index, tmp_path):
    code = blocks(README.read_text(), "python", "use-from-tests")[index]

    done = run_python_block(code, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("index", range(4))
def test_python_api_examples_run_as_written(index, tmp_path):
    code = blocks(PYTHON_API.read_text(), "python")[index]

    done = run_python_block(code, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_documented_state_file_boots_a_background_sandbox(tmp_path):
    [state] = blocks(PYTHON_API.read_text(), "yaml")
    (tmp_path / "team.yaml").write_text(state, encoding="utf-8")
    [script] = blocks(PYTHON_API.read_text(), "sh")
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + "\nkill -INT $!\nwait\n"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert '"status":"ok"' in done.stdout.replace(" ", "")


def cli_commands(script_lines: list[str]) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in script_lines if line.startswith("pismo-sandbox ")]


def accepts(argv: list[str]) -> None:
    """The CLI parses argv (options exist, values have the right type) without running it."""
    command = main.get_command(None, argv[0])
    assert command is not None, argv
    with command.make_context(argv[0], argv[1:]):
        pass


def test_the_github_actions_job_runs_contract_drills_and_tests_and_keeps_the_junit_reports():
    [text] = blocks(CI.read_text(), "yaml", "github-actions")
    job = yaml.safe_load(text)["jobs"]["pismo-sandbox"]
    runs = [step["run"] for step in job["steps"] if "run" in step]

    commands = cli_commands(runs)

    assert [c[0] for c in commands] == ["contract", "drill"]
    for argv in commands:
        accepts(argv)
        assert argv[argv.index("--junit") + 1].startswith("reports/")
    assert any("--junitxml=reports/" in run for run in runs)
    assert any(
        step.get("uses", "").startswith("actions/upload-artifact")
        and step["with"]["path"] == "reports/"
        and step["if"] == "always()"
        for step in job["steps"]
    )


def test_the_gitlab_job_runs_contract_drills_and_tests_and_reports_junit():
    [text] = blocks(CI.read_text(), "yaml", "gitlab-ci")
    job = yaml.safe_load(text)["pismo-sandbox"]

    commands = cli_commands(job["script"])

    assert [c[0] for c in commands] == ["contract", "drill"]
    for argv in commands:
        accepts(argv)
        assert argv[argv.index("--junit") + 1].startswith("reports/")
    assert job["artifacts"]["reports"]["junit"] == "reports/*.xml" and job["artifacts"]["when"] == "always"
