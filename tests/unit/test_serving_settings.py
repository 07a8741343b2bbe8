"""How a served sandbox is set up: openapi-core loaded once in the master before the workers fork,
and the gunicorn settings SandboxServer hands over."""

from __future__ import annotations

import gc

import pytest

from pismo_sandbox import server as serving
from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.server import SandboxServer


def test_openapi_core_is_loaded_for_every_operation_before_gunicorn_forks_the_workers(tmp_path, monkeypatch):
    load_contract.cache_clear()  # a contract of its own, nothing loaded by earlier tests
    seen: dict[str, bool] = {}

    def run_instead_of_gunicorn(self: SandboxServer) -> None:  # where gunicorn would fork
        seen["loaded when the workers fork"] = all(op.core.loaded for op in load_contract().by_id.values())
        raise SystemExit(0)

    monkeypatch.setattr(SandboxServer, "run", run_instead_of_gunicorn)
    monkeypatch.setattr(serving, "exit_without_teardown", lambda code: seen.setdefault("exit", code))
    monkeypatch.setattr(serving.logs, "configure", lambda *args: None)  # the process logging stays as it is
    assert not any(op.core.loaded for op in load_contract().by_id.values())

    serving.serve(Config(db_path=str(tmp_path / "m.db")), "127.0.0.1", 0, workers=2, threads=1)

    assert seen == {"loaded when the workers fork": True, "exit": 0}


def test_a_worker_freezes_what_start_up_built_once_its_app_is_built(tmp_path):
    server = SandboxServer(Config(db_path=str(tmp_path / "w.db")), "127.0.0.1", 0, workers=1, threads=1)
    app = create_app(Config(db_path=str(tmp_path / "w.db")))  # what a worker builds before the hook
    assert any(obj is app for obj in gc.get_objects())
    try:
        server.cfg.post_worker_init(None)
        assert gc.get_freeze_count() > 0
        assert not any(obj is app for obj in gc.get_objects())  # no generation the collector scans holds it
    finally:
        gc.unfreeze()
    assert any(obj is app for obj in gc.get_objects())


@pytest.mark.parametrize("code, status", [(None, 0), (3, 3)])
def test_a_stopping_process_runs_its_exit_handlers_before_it_ends(code, status, tmp_path):
    import subprocess
    import sys

    marker = tmp_path / "handler-ran"
    program = (f"import atexit, pathlib\nfrom pismo_sandbox.server import exit_without_teardown\n"
               f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
               f"print('flushed', end='')\nexit_without_teardown({code!r})\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stdout, marker.read_text()) == (status, "flushed", "yes")
