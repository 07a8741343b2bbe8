"""Start-up mistakes, through the command line as a new user makes them: each is one line on
stderr naming the setting and the fix, exit status 2, no traceback, and nothing left behind."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import environ_without_settings


def _run(args: list[str], cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    clean = environ_without_settings("PISMO_SANDBOX_")
    return subprocess.run(
        [sys.executable, "-m", "pismo_sandbox", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line_error(completed: subprocess.CompletedProcess, *expected: str) -> str:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("pismo-sandbox: error: ") and "Traceback" not in completed.stderr
    for text in expected:
        assert text in lines[0]
    return lines[0]


def test_a_database_in_a_missing_folder_names_the_folder(tmp_path):
    line = _one_line_error(
        _run(["serve", "--db", "no/such/folder/x.db"], tmp_path), "--db", "does not exist", "mkdir -p"
    )
    assert str(tmp_path / "no" / "such" / "folder") in line
    assert not (tmp_path / "no").exists()


def test_a_database_path_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    _one_line_error(_run(["serve", "--db", "data"], tmp_path), "--db data is a folder", "data/sandbox.db")
    assert list((tmp_path / "data").iterdir()) == []


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    (tmp_path / "notes.txt").write_text("my notes\n")
    _one_line_error(_run(["serve", "--db", "notes.txt"], tmp_path), "--db notes.txt is not a SQLite database")
    assert (tmp_path / "notes.txt").read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_bad_token_algorithm_names_the_variable_and_the_choices(tmp_path):
    _one_line_error(
        _run(["serve", "--db", "x.db"], tmp_path, {"PISMO_SANDBOX_TOKEN_ALGORITHM": "RS256"}),
        "PISMO_SANDBOX_TOKEN_ALGORITHM='RS256'",
        "HS256, HS512",
    )
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("key", ["short", "%%%% not base64 %%%%" * 4, "c2hvcnQ="])
def test_a_bad_master_key_says_how_to_make_one(tmp_path, key):
    _one_line_error(
        _run(["serve", "--db", "x.db"], tmp_path, {"PISMO_SANDBOX_MASTER_KEY": key}),
        "PISMO_SANDBOX_MASTER_KEY",
        "32 random bytes in base64",
        "os.urandom(32)",
    )
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("PISMO_SANDBOX_TOKEN_TTL_SECONDS", "ten", "must be a whole number, not 'ten'"),
        ("PISMO_SANDBOX_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR"),
        ("PISMO_SANDBOX_LOG_FORMAT", "yaml", "use text or json"),
        ("PISMO_SANDBOX_SYNCHRONOUS", "sometimes", "OFF, NORMAL, FULL, EXTRA"),
        ("PISMO_SANDBOX_STRICT_ISPB", "maybe", "not a boolean"),
    ],
)
def test_a_bad_setting_names_the_variable(tmp_path, name, value, expected):
    _one_line_error(_run(["serve", "--db", "x.db"], tmp_path, {name: value}), name, expected)


def test_a_port_in_use_is_one_line_at_once_not_gunicorn_retrying(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _run(["serve", "--db", "x.db", "--port", str(port)], tmp_path)
    _one_line_error(completed, f"--port {port}", "already in use", "choose another port")
    assert "gunicorn" not in completed.stderr.lower() and not (tmp_path / "x.db").exists()


def test_a_host_that_is_not_this_machine_is_named(tmp_path):
    _one_line_error(
        _run(["serve", "--db", "x.db", "--host", "192.0.2.1"], tmp_path),
        "--host 192.0.2.1",
        "not an address of this machine",
    )


def test_zero_workers_is_refused(tmp_path):
    _one_line_error(_run(["serve", "--db", "x.db", "--workers", "0"], tmp_path), "--workers 0", "1 or more")


def test_a_bad_fault_file_is_one_line_with_file_line_and_column(tmp_path):
    (tmp_path / "faults.yaml").write_text(
        "rules:\n  - match: {operation_id: post-credential}\n    action: {type: status, status: 502}\n"
    )
    _one_line_error(
        _run(["serve", "--db", "x.db", "--faults", "faults.yaml"], tmp_path),
        "--faults faults.yaml:2:13: rule 1: match.operation_id",
        "did you mean 'post-credentials'",
    )


def test_a_key_file_of_the_wrong_size_is_named(tmp_path):
    sqlite3.connect(tmp_path / "x.db").close()
    (tmp_path / "x.db.key").write_bytes(b"too short")
    _one_line_error(_run(["serve", "--db", "x.db"], tmp_path), "x.db.key", "is damaged", "delete it")


def test_token_without_a_database_says_what_is_missing_and_creates_nothing(tmp_path):
    _one_line_error(_run(["token", "--tenant", "TN-1"], tmp_path), "no database", "--db FILE", "PISMO_SANDBOX_DB_PATH")
    assert list(tmp_path.iterdir()) == []


def test_token_with_a_database_that_does_not_exist_creates_nothing(tmp_path):
    _one_line_error(
        _run(["token", "--tenant", "TN-1", "--db", "typo.db"], tmp_path), "--db typo.db", "no such database"
    )
    assert list(tmp_path.iterdir()) == []


def test_reset_of_a_database_that_does_not_exist_creates_nothing(tmp_path):
    _one_line_error(_run(["reset", "--db", "typo.db"], tmp_path), "--db typo.db", "no such database")
    assert list(tmp_path.iterdir()) == []


def test_a_misspelt_setting_is_named_with_the_one_meant(tmp_path):
    completed = _run(
        ["serve", "--db", "x.db", "--workers", "0"],
        tmp_path,
        {"PISMO_SANDBOX_TOKEN_ALGORITM": "HS256", "PISMO_SANDBOX_SOMETHING_ELSE": "1"},
    )
    warnings = [line for line in completed.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "pismo-sandbox: warning: PISMO_SANDBOX_TOKEN_ALGORITM is not a setting and is ignored;"
        " did you mean PISMO_SANDBOX_TOKEN_ALGORITHM?"
    ]
    assert completed.returncode == 2  # the warning stops nothing; --workers 0 does


def test_a_database_named_by_the_variable_is_named_so(tmp_path):
    _one_line_error(
        _run(["token", "--tenant", "TN-1"], tmp_path, {"PISMO_SANDBOX_DB_PATH": "gone.db"}),
        "PISMO_SANDBOX_DB_PATH gone.db: no such database",
    )
    _one_line_error(
        _run(["serve"], tmp_path, {"PISMO_SANDBOX_DB_PATH": "missing/x.db"}),
        "PISMO_SANDBOX_DB_PATH missing/x.db: the folder",
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args", [["serve", "--workers", "0"], ["token", "--tenant", "TN-1"], ["reset", "--db", "missing.db"]]
)
def test_a_mistake_is_reported_before_the_server_and_the_app_are_loaded(tmp_path, args):
    """The one line comes before Flask, gunicorn or the app's modules are imported: at once, not
    after loading what a start needs."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from pismo_sandbox.cli import main\n"
            "try:\n"
            f"    main({args!r})\n"
            "except SystemExit as stop:\n"
            "    print(stop.code, *sorted(name for name in sys.modules if name.split('.')[0] in"
            " ('flask', 'gunicorn', 'werkzeug', 'marshmallow', 'jwt') or name == 'pismo_sandbox.app'))\n",
        ],
        cwd=tmp_path,
        env=environ_without_settings("PISMO_SANDBOX_"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert loaded.stdout.split() == ["2"], loaded.stdout + loaded.stderr
