"""The gunicorn settings every app served here shares (the simulator, and the bench's reference
apps, which must be served exactly as the simulator is), and the application class applying them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gunicorn.app.base import BaseApplication

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def served_options(host: str, port: int, workers: int, threads: int) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 120,
        "graceful_timeout": 5,
        "preload_app": False,  # each worker builds its app, and opens its connections, after fork
        "accesslog": None,
        # gunicorn 27 opens a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl or
        # ~/.gunicorn/gunicorn.ctl, one path shared by every server the user runs: none here.
        "control_socket_disable": True,
    }


class GunicornApp(BaseApplication):
    """Serve the WSGI app ``load()`` returns (called in each worker) with ``options``."""

    def __init__(self, options: dict, load: Callable[[], WSGIApplication]):
        self.options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        return self._load()
