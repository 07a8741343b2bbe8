"""How a served worker is set up: the gunicorn settings SandboxServer hands over."""

from __future__ import annotations

import gc

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contract.operations import load_contract
from pismo_sandbox.server import SandboxServer


def test_a_worker_loads_openapi_core_in_the_background_then_freezes_what_start_up_built(tmp_path):
    load_contract.cache_clear()  # a contract of its own, nothing loaded by earlier tests
    server = SandboxServer(Config(db_path=str(tmp_path / "w.db")), "127.0.0.1", 0, workers=1, threads=1)
    app = create_app(Config(db_path=str(tmp_path / "w.db")))  # what a worker builds before the hook
    operations = list(load_contract().by_id.values())
    assert not any(op.core.loaded for op in operations)
    assert any(obj is app for obj in gc.get_objects())
    try:
        warm_up = server.cfg.post_worker_init(None)
        warm_up.join(timeout=60)
        assert not warm_up.is_alive()
        assert all(op.core.loaded for op in operations)
        assert gc.get_freeze_count() > 0
        assert not any(obj is app for obj in gc.get_objects())  # no generation the collector scans holds it
    finally:
        gc.unfreeze()
    assert any(obj is app for obj in gc.get_objects())
