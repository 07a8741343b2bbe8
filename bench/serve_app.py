"""Run one of the bench's reference apps (the bare baseline, the floor) under gunicorn with the
simulator's own server settings: `python -m bench.serve_app PORT WORKERS THREADS [baseline|floor]`."""

import sys

from flask import Flask

from pismo_sandbox.gunicorn_app import GunicornApp, served_options


def load_reference(name: str) -> Flask:
    if name == "floor":
        from bench.floor import app_from_environment

        return app_from_environment()
    from bench.baseline import app

    return app


if __name__ == "__main__":
    port, workers, threads = (int(arg) for arg in sys.argv[1:4])
    name = sys.argv[4] if len(sys.argv) > 4 else "baseline"
    GunicornApp(
        {**served_options("127.0.0.1", port, workers, threads), "loglevel": "warning"}, lambda: load_reference(name)
    ).run()
