"""How a served worker is set up (the gunicorn settings SandboxServer hands over), and how a
served process ends."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.server import SandboxServer


def test_a_worker_loads_openapi_core_and_compiles_validators_in_the_background_then_freezes_what_start_up_built(
    tmp_path,
):
    load_contract.cache_clear()  # a contract of its own, nothing loaded by earlier tests
    server = SandboxServer(Config(db_path=str(tmp_path / "w.db")), "127.0.0.1", 0, workers=1, threads=1)
    app = create_app(Config(db_path=str(tmp_path / "w.db")))  # what a worker builds before the hook
    operations = list(load_contract().by_id.values())
    assert not any(op.core.loaded for op in operations)
    assert not any(op.compiled.ready for op in operations)
    assert any(obj is app for obj in gc.get_objects())
    try:
        warm_up = server.cfg.post_worker_init(None)
        warm_up.join(timeout=60)
        assert not warm_up.is_alive()
        assert all(op.core.loaded for op in operations)
        assert all(op.compiled.ready for op in operations)
        assert gc.get_freeze_count() > 0
        assert not any(obj is app for obj in gc.get_objects())  # no generation the collector scans holds it
    finally:
        gc.unfreeze()
    assert any(obj is app for obj in gc.get_objects())


@pytest.mark.parametrize("code, status", [(None, 0), (3, 3)])
def test_a_stopping_process_runs_its_exit_handlers_before_it_ends(code, status, tmp_path):
    marker = tmp_path / "handler-ran"
    program = (
        f"import atexit, pathlib\nfrom pismo_sandbox.server import exit_without_teardown\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('yes'))\n"
        f"print('flushed', end='')\nexit_without_teardown({code!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)

    assert (done.returncode, done.stdout, marker.read_text()) == (status, "flushed", "yes")
