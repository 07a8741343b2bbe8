"""Shared fixtures: an app on a temporary database, a client, and helpers that set up tenants,
accounts and tokens through the admin API the way a user would.

Building an app costs a few hundred milliseconds (mostly compiling its URL map); wiping its state
costs a few. So a test that asks for `app` (or `client`, `sandbox`, `tenant`) with the default
configuration gets one app per test process, reset before the test: the same clean sandbox a new
app would give. A test that overrides `config` still gets an app of its own.

Likewise `served_sandbox` is one served sandbox (gunicorn) per test process, reset before each
test; `serve` starts a server of the test's own.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import os
import pathlib
import re
from dataclasses import dataclass, field

# Hypothesis runs every plugin registered for it when it is imported: trio (installed with
# selenium) registers one, which imports trio, 0.23 s of CPU in each test process and in each
# contract run the tests start (their Hypothesis import: 0.19 s against 0.42 s). No test uses a
# Hypothesis plugin.
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")

import hypothesis  # after the setting above
import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.contracts.document_cache import ENV_VAR as CACHE_DIR
from pismo_sandbox.launcher import Sandbox as Launched
from pismo_sandbox.launcher import NOT_BEHAVIOUR, SandboxStartError
from pismo_sandbox.launcher import free_port  # noqa: F401  (the one helper; test modules import it from here too)
from pismo_sandbox.core import EXTENSION

DEFAULT_CONFIG = Config()

# Property tests judge what an example does, never how long it took: Hypothesis's per-example
# deadline (200 ms by default) is a wall-clock assertion that machine load alone can fail.
hypothesis.settings.register_profile("pismo-sandbox", deadline=None)
hypothesis.settings.load_profile("pismo-sandbox")

# The cache of the served documents (docs/configuration.md) for this run and the servers and CLI
# runs it starts: one directory under the checkout's build/, shared by every xdist worker (written
# once per change of the specs, not per worker) and never the user's ~/.cache. A value set
# outside the run wins (`off` runs the suite without the cache).
os.environ.setdefault(CACHE_DIR, str(pathlib.Path(__file__).resolve().parent.parent / "build" / "cache"))

# The suite starts about 85 served sandboxes, most living a few seconds: their workers load
# openapi-core when a request first needs it instead of in the background at start (about 0.5 s
# of CPU per worker, a sixth of a served test's). tests/served/test_warm_up.py serves with the
# default. A value set outside the run wins.
os.environ.setdefault("PISMO_SANDBOX_WARM_UP", "false")


def environ_without_settings(prefix: str = "PISMO_") -> dict[str, str]:
    """This process's environment without the sandbox's settings (names starting with
    ``prefix``), for a child that must start from the defaults; the document cache's directory
    and the warm-up setting stay, since they decide no behaviour (as the launcher passes them on)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefix) or k in NOT_BEHAVIOUR}


@pytest.fixture(scope="session")
def shared_db_path(tmp_path_factory) -> str:
    """The database of the app this test process shares between tests."""
    return str(tmp_path_factory.mktemp("shared") / "sandbox.db")


@pytest.fixture(scope="session")
def shared_app(shared_db_path):
    """One app with the default configuration per test process; `app` resets it before each test."""
    return create_app(Config(db_path=shared_db_path))


@pytest.fixture
def db_path(request, tmp_path) -> str:
    """The test's database: the shared app's when the test uses an app, else a fresh path."""
    if "app" in request.fixturenames:
        return request.getfixturevalue("shared_db_path")
    return str(tmp_path / "sandbox.db")


@pytest.fixture
def config(db_path) -> Config:
    return Config(db_path=db_path)


def _uses_defaults(config: Config) -> bool:
    return dataclasses.replace(config, db_path=DEFAULT_CONFIG.db_path) == DEFAULT_CONFIG


@pytest.fixture
def app(request, config):
    """An app on a clean sandbox. With the default configuration it is the shared app, reset here
    and given back its views, handlers, settings and extensions afterwards (tests may replace one);
    otherwise an app of the test's own."""
    if config.db_path != request.getfixturevalue("shared_db_path") or not _uses_defaults(config):
        own = create_app(config)
        own.extensions[EXTENSION].reset()  # a clean sandbox even on a database used before
        yield own
        own.extensions[EXTENSION].close()
        return
    shared = request.getfixturevalue("shared_app")
    services = shared.extensions[EXTENSION]
    services.reset()
    saved = [
        (shared.view_functions, dict(shared.view_functions)),
        (shared.config, dict(shared.config)),
        (shared.wsgi_app.handlers, dict(shared.wsgi_app.handlers)),
        (shared.extensions, dict(shared.extensions)),
        (vars(services), dict(vars(services))),
    ]
    yield shared
    for current, before in saved:
        current.clear()
        current.update(before)


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Tenant:
    tenant_id: str
    server_key: str
    server_secret: str
    account_id: int
    token: str
    extra_accounts: list[int] = field(default_factory=list)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


class Sandbox:
    """Drives the admin and passport APIs of a test client."""

    def __init__(self, client):
        self.client = client

    def create_tenant(self, tenant_id: str | None = None) -> dict:
        response = self.client.post("/_sandbox/tenants", json={"tenant_id": tenant_id} if tenant_id else {})
        assert response.status_code == 201, response.json
        return response.json

    def create_account(self, tenant_id: str, status: str = "NORMAL", account_id: int | None = None) -> int:
        body = {"status": status} | ({"account_id": account_id} if account_id else {})
        response = self.client.post(f"/_sandbox/tenants/{tenant_id}/accounts", json=body)
        assert response.status_code == 201, response.json
        return response.json["account_id"]

    def login(self, tenant: dict, account_id: int | None = None) -> str:
        body = {"server_key": tenant["server_key"], "server_secret": tenant["server_secret"]}
        if account_id is not None:
            body["account_id"] = account_id
        response = self.client.post("/passport/v2/s2s/access-token", json=body)
        assert response.status_code == 200, response.json
        return response.json["token"]

    def tenant(self, status: str = "NORMAL") -> Tenant:
        created = self.create_tenant()
        account_id = self.create_account(created["tenant_id"], status)
        return Tenant(
            created["tenant_id"],
            created["server_key"],
            created["server_secret"],
            account_id,
            self.login(created, account_id),
        )

    def advance_clock(self, seconds: float) -> None:
        assert self.client.post("/_sandbox/clock", json={"advance_seconds": seconds}).status_code == 200

    def events(self, **query) -> list[dict]:
        response = self.client.get("/_sandbox/events", query_string=query)
        assert response.status_code == 200
        return response.json["items"]

    def journal(self, **query) -> list[dict]:
        response = self.client.get("/_sandbox/journal", query_string=query)
        assert response.status_code == 200
        return response.json["items"]


@pytest.fixture
def sandbox(client) -> Sandbox:
    return Sandbox(client)


@pytest.fixture
def tenant(sandbox) -> Tenant:
    return sandbox.tenant()


# -- real servers ------------------------------------------------------------------------------


class ServedSandbox(Launched):
    """`pismo-sandbox serve` in a child process (gunicorn, real sockets), through the launcher;
    ``port`` None: a free one chosen by the operating system. stop() returns its log."""

    def __init__(self, db_path: str, workers: int = 2, env: dict | None = None, port: int | None = None):
        super().__init__(db_path=db_path, workers=workers, env=env, port=port or 0)

    def start(self, timeout: float = 20) -> "ServedSandbox":
        self.startup_timeout = timeout
        try:
            super().start()
        except SandboxStartError as error:
            raise RuntimeError(str(error)) from None
        return self

    def reset(self) -> "ServedSandbox":
        """Wipe its state (POST /_sandbox/reset), as a fresh server would start."""
        self.admin.reset()
        return self


@pytest.fixture
def serve(tmp_path):
    """Factory: serve(db_path=..., workers=...) -> a started ServedSandbox, stopped at teardown."""
    started: list[ServedSandbox] = []

    def _serve(db_path: str | None = None, **kwargs) -> ServedSandbox:
        server = ServedSandbox(db_path or str(tmp_path / "served.db"), **kwargs).start()
        started.append(server)
        return server

    yield _serve
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory):
    """One served sandbox (gunicorn, two workers) per test process, started on first use."""
    server = ServedSandbox(str(tmp_path_factory.mktemp("served") / "served.db"))
    yield server
    server.stop()


@pytest.fixture
def served_sandbox(shared_server) -> ServedSandbox:
    """A served sandbox with a clean state: the shared one, reset (started again if a test
    stopped it). For a server of the test's own (its own database, settings or log), use `serve`."""
    if shared_server.process is None or shared_server.process.poll() is not None:
        return shared_server.start()
    return shared_server.reset()


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory) -> pathlib.Path:
    """The project's wheel, built once for the test process (the packaging and install-from-wheel
    tests share it: both are in the xdist group "packaging")."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(out),
            str(pathlib.Path(__file__).resolve().parents[1]),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("pismo_sandbox-*.whl")
    return built


def pytest_collection_finish(session):
    """What collection imported (the app, openapi-core, Schemathesis, Hypothesis) lives as long as
    the test process: moved out of the collector's sight, full collections stop re-scanning it.
    Alternated on the unit, in-process HTTP and in-process contract tests (1,069, two processes),
    4 runs each: 91 to 101 s of user CPU against 94 to 113 s."""
    gc.collect()
    gc.freeze()


# -- parallel runs (pytest-xdist) -------------------------------------------------------------

_KEPT_TOGETHER = re.compile(r"""scope=["'](?:module|class|package)["']|xdist_group\(["']([\w-]+)["']\)""")


@functools.cache
def _module_group(root: str, module: str) -> str | None:
    """The work unit a test module must stay in, read from its source: its own path when it
    defines a fixture shared by its tests (module or class scope), the group's name when it is
    marked xdist_group("name"); None when its tests can run in any process, one by one."""
    path = pathlib.Path(root, module)
    if path.suffix != ".py" or not path.is_file():
        return module
    groups = [m.group(1) for m in _KEPT_TOGETHER.finditer(path.read_text(encoding="utf-8"))]
    if not groups:
        return None
    return next((f"group:{name}" for name in groups if name), module)


def pytest_xdist_make_scheduler(config, log):
    """Spread tests over the processes one by one, but keep a module's tests together where they
    share a costly fixture (the contract run, a built wheel) and a marked group's tests in one
    process (the drill sandbox). (xdist's own --dist loadgroup does this from the markers, but it
    cannot rename test ids on pytest 9, so the grouping is decided here from the sources.)"""
    from xdist.scheduler import LoadScopeScheduling

    root = str(config.rootpath)

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _module_group(root, nodeid.split("::", 1)[0]) or nodeid

    return Scheduling(config, log)
