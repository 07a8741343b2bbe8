"""Start a served sandbox from Python: ``with Sandbox() as sb:`` runs ``python -m pismo_sandbox
serve`` (gunicorn, real sockets) in a child process on a free port with a temporary database,
waits until it answers, and stops it on exit. ``sb.base_url`` is where it serves; ``sb.admin``
is the typed admin client (pismo_sandbox.client).

The one way the library, the tests and the drills start a sandbox.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from pismo_sandbox.client import AccountSession, AdminClient, AdminError
from pismo_sandbox.config import ENV_PREFIX
from pismo_sandbox.contracts import document_cache

URL_LINE = re.compile(r"^(https?://\S+)\s*$", re.MULTILINE)
# Settings that decide when work is done, never what a request gets: passed on even to a child
# started from the defaults.
NOT_BEHAVIOUR = (document_cache.ENV_VAR, ENV_PREFIX + "WARM_UP")


class SandboxStartError(RuntimeError):
    """The sandbox did not start (it exited, or did not answer in time); the message holds its output."""


class Sandbox:
    """A served sandbox in a child process.

    db_path:     SQLite file (default: a temporary one, deleted on exit); ":memory:" allowed.
    workers:     gunicorn workers (threads: threads per worker).
    faults:      a YAML/JSON fault file loaded at start-up (``serve --faults``).
    state:       a state file loaded at start-up (``serve --state``).
    subscribe:   receiver URL(s) every event is pushed to (``serve --subscribe``), framed as
                 subscribe_format (pismo, sns or pubsub), signed with subscribe_secret
                 (``serve --subscribe-secret``; default: one the sandbox makes).
    settings:    Config fields, e.g. {"token_ttl_seconds": 60}, passed as PISMO_SANDBOX_<NAME>.
    env:         extra environment variables of the child.
    inherit_env: pass the caller's PISMO_SANDBOX_* variables on (the rest of the environment
                 always is, and so are PISMO_SANDBOX_CACHE_DIR and PISMO_SANDBOX_WARM_UP,
                 which decide no behaviour).
    port:        a fixed port (default 0: the operating system picks a free one).
    """

    def __init__(
        self,
        *,
        db_path: str | None = None,
        workers: int = 1,
        threads: int = 8,
        faults: str | os.PathLike | None = None,
        state: str | os.PathLike | None = None,
        subscribe: str | Sequence[str] = (),
        subscribe_format: str = "pismo",
        subscribe_secret: str | None = None,
        settings: Mapping[str, object] | None = None,
        env: Mapping[str, str] | None = None,
        inherit_env: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 60.0,
    ):
        self.workers, self.threads = workers, threads
        self.faults = os.fspath(faults) if faults is not None else None
        self.state = os.fspath(state) if state is not None else None
        self.subscribe = [subscribe] if isinstance(subscribe, str) else list(subscribe)
        self.subscribe_format = subscribe_format
        self.port: int | None  # None: connected to a URL that names no port
        self.subscribe_secret = subscribe_secret
        self.host, self.port = host, port
        self.startup_timeout = startup_timeout
        self.directory: str | None = None
        self.db_path = db_path
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self._admin: AdminClient | None = None
        self._output: str | None = None
        environ = (
            dict(os.environ)
            if inherit_env
            else {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX) or k in NOT_BEHAVIOUR}
        )
        for name, value in (settings or {}).items():
            environ[ENV_PREFIX + name.upper()] = _env_value(value)
        environ.update(env or {})
        self.env = environ
        self.admin_token = environ.get(ENV_PREFIX + "ADMIN_TOKEN") or None
        self._external = False
        self._finalizer: weakref.finalize | None = None

    @classmethod
    def connect(cls, base_url: str, admin_token: str | None = None) -> "Sandbox":
        """A sandbox someone else runs: the same ``.base_url`` and ``.admin``; nothing is
        started or stopped."""
        sandbox = cls(inherit_env=False)
        sandbox.admin_token = admin_token
        sandbox.base_url = base_url.rstrip("/")
        sandbox.port = urlsplit(sandbox.base_url).port
        sandbox._external = True
        return sandbox

    # -- life --------------------------------------------------------------------------------------
    def start(self) -> "Sandbox":
        if self.process is not None or self._external:
            return self
        self.directory = tempfile.mkdtemp(prefix="pismo-sandbox-")
        db_path = self.db_path or os.path.join(self.directory, "sandbox.db")
        self.db_path = db_path
        argv = [
            sys.executable,
            "-m",
            "pismo_sandbox",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--db",
            db_path,
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
        ]
        if self.faults:
            argv += ["--faults", self.faults]
        if self.state:
            argv += ["--state", self.state]
        for url in self.subscribe:
            argv += ["--subscribe", url]
        if self.subscribe:
            argv += ["--subscribe-format", self.subscribe_format]
        if self.subscribe and self.subscribe_secret:
            argv += ["--subscribe-secret", self.subscribe_secret]
        # A file, not a pipe: nothing drains a pipe while the server runs, and a full one blocks
        # it. Opened for appending by the child (stdout and stderr, in the order written), read
        # here through its path; the URL is the line that is nothing but a URL.
        self._output = os.path.join(self.directory, "output")
        with open(self._output, "ab") as output:
            self.process = subprocess.Popen(
                argv,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
            )
        # A sandbox never closed (no `with`, an exception in between) is still stopped when it is
        # collected or the interpreter exits: it runs in its own session, so nothing else would.
        self._finalizer = weakref.finalize(self, _abandon, self.process, self.directory)
        try:
            self._wait_until_served()
        except BaseException:
            self.close()  # the error carries what the sandbox printed
            raise
        return self

    def _wait_until_served(self) -> None:
        assert self.process is not None, "start() starts the process first"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.base_url is None:
                found = URL_LINE.search(self.output())
                if found:
                    self.base_url = found.group(1)
                    self.port = int(self.base_url.rsplit(":", 1)[-1])
            if self.process.poll() is not None:
                raise SandboxStartError(f"the sandbox exited ({self.process.returncode}):\n{self.output()}")
            if self.base_url is not None:
                try:
                    self.admin.health()
                    return
                except AdminError:
                    pass
            time.sleep(0.05)
        raise SandboxStartError(f"the sandbox did not answer in {self.startup_timeout:g} s:\n{self.output()}")

    def stop(self) -> str:
        """Stop the child (gunicorn's quick shutdown, then a kill); what it printed."""
        process, self.process = self.process, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(process)
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        return self.output()

    def close(self) -> str:
        """Stop, and delete the temporary directory (and database, unless one was given)."""
        output = self.stop()
        self._output = None
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        return output

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- use -------------------------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        return self.base_url

    @property
    def admin(self) -> AdminClient:
        if self.base_url is None:
            raise RuntimeError("the sandbox is not running: start() it first")
        if self._admin is None:
            self._admin = AdminClient(self.base_url, self.admin_token)
        return self._admin

    def new_account(self, status: str = "NORMAL") -> AccountSession:
        """A fresh tenant and account in it, logged in (see AdminClient.new_account)."""
        return self.admin.new_account(status)

    def output(self) -> str:
        """What the sandbox printed so far (its URL line and its log)."""
        return _read(self._output) if self._output else ""

    def __repr__(self) -> str:
        return f"Sandbox({self.base_url or 'not running'})"


def _read(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _abandon(process: subprocess.Popen, directory: str) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(process)
    shutil.rmtree(directory, ignore_errors=True)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the operating system's pick), for a server that must
    be told its port before it starts: a consumer, a bench server, a test's receiver."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def kill_group(process: subprocess.Popen) -> None:
    """Kill a process started in its own session, with everything it started, and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
