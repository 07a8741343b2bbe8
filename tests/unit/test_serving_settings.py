"""How a served worker is set up: the gunicorn settings SandboxServer hands over."""

from __future__ import annotations

import gc

from simulator.app import create_app
from simulator.config import Config
from simulator.server import SandboxServer


def test_a_worker_freezes_what_start_up_built_so_full_collections_skip_it(tmp_path):
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
