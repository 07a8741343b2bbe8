"""The master-key file beside the database: complete or absent, one key when processes race to
create it, and a damaged file refused with one line saying what to do."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from pismo_sandbox.crypto import KeyFileError, load_master_key


def test_a_second_loader_never_sees_a_half_written_key(tmp_path, monkeypatch):
    # The first loader stalls while it makes its key (as a crash or a slow disk would); a second
    # one starting meanwhile must not find an empty file, and both must end with one key.
    db = str(tmp_path / "s.db")
    real = os.urandom
    first_in, second_done = threading.Event(), threading.Event()
    calls = []

    def stalling_urandom(n):
        calls.append(n)
        if len(calls) == 1:
            first_in.set()
            second_done.wait(10)
        return real(n)

    monkeypatch.setattr(os, "urandom", stalling_urandom)
    keys, errors = {}, []

    def load(name):
        try:
            keys[name] = load_master_key(None, db)
        except Exception as error:
            errors.append(error)
        finally:
            if name == "second":
                second_done.set()

    first = threading.Thread(target=load, args=("first",))
    first.start()
    assert first_in.wait(10)
    load("second")
    first.join(10)
    assert errors == []
    assert keys["first"] == keys["second"] and len(keys["first"]) == 32
    assert open(db + ".key", "rb").read() == keys["first"]
    assert oct(os.stat(db + ".key").st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _race(db: str, barrier, queue) -> None:
    barrier.wait()
    try:
        queue.put(load_master_key(None, db).hex())
    except Exception as error:
        queue.put(f"error: {error}")


def test_processes_starting_together_share_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    for trial in range(15):
        db = str(tmp_path / f"race-{trial}.db")
        barrier, queue = ctx.Barrier(3), ctx.Queue()
        workers = [ctx.Process(target=_race, args=(db, barrier, queue)) for _ in range(3)]
        for worker in workers:
            worker.start()
        results = [queue.get(timeout=20) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert len(set(results)) == 1 and not results[0].startswith("error"), results
        assert open(db + ".key", "rb").read().hex() == results[0]


@pytest.mark.parametrize("content", [b"", b"x" * 31, b"x" * 33])
def test_a_damaged_key_file_is_refused_naming_the_file_and_the_remedy(tmp_path, content):
    db = str(tmp_path / "s.db")
    open(db + ".key", "wb").write(content)
    with pytest.raises(KeyFileError) as caught:
        load_master_key(None, db)
    message = str(caught.value)
    assert db + ".key" in message and f"({len(content)} bytes" in message and "delete it" in message
    assert open(db + ".key", "rb").read() == content  # left for the operator to decide


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["token", "--tenant", "TN-x"], ["reset"]])
def test_the_command_line_refuses_a_damaged_key_file_in_one_line(tmp_path, command):
    db = str(tmp_path / "s.db")
    if command[0] != "serve":  # token and reset need an existing database: a sandbox's, here empty
        sqlite3.connect(db).close()
        open(db, "ab").close()
    open(db + ".key", "wb").close()  # what a crash between create and write used to leave
    result = subprocess.run(
        [sys.executable, "-m", "pismo_sandbox", *command, "--db", db], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("pismo-sandbox: error:")]
    assert len(errors) == 1 and f"{db}.key is damaged (0 bytes" in errors[0] and "delete it" in errors[0]
