"""Run one of the bench's reference apps (the bare baseline, the floor) under gunicorn with the
simulator's own server settings: `python -m bench.serve_app PORT WORKERS THREADS [baseline|floor]`."""

import sys

from gunicorn.app.base import BaseApplication


def load_reference(name: str):
    if name == "floor":
        from bench.floor import app_from_environment
        return app_from_environment()
    from bench.baseline import app
    return app


class ReferenceServer(BaseApplication):
    def __init__(self, port: int, workers: int, threads: int, name: str):
        self.name = name
        self.options = {"bind": f"127.0.0.1:{port}", "workers": workers, "worker_class": "gthread",
                        "threads": threads, "accesslog": None, "loglevel": "warning"}
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return load_reference(self.name)


if __name__ == "__main__":
    ReferenceServer(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                    sys.argv[4] if len(sys.argv) > 4 else "baseline").run()
