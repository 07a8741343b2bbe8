"""Run the baseline app under gunicorn with the simulator's own server settings."""

import sys

from gunicorn.app.base import BaseApplication


class Baseline(BaseApplication):
    def __init__(self, port: int, workers: int, threads: int):
        self.options = {"bind": f"127.0.0.1:{port}", "workers": workers, "worker_class": "gthread",
                        "threads": threads, "accesslog": None, "loglevel": "warning"}
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from bench.baseline import app
        return app


if __name__ == "__main__":
    Baseline(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])).run()
