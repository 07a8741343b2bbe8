"""Shared fixtures: an app on a temporary database, a client, and helpers that set up tenants,
accounts and tokens through the admin API the way a user would."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pismo_sandbox.app import create_app
from pismo_sandbox.config import Config
from pismo_sandbox.launcher import Sandbox as Launched
from pismo_sandbox.launcher import SandboxStartError
from pismo_sandbox.launcher import free_port  # noqa: F401  (the one helper; test modules import it from here too)


@pytest.fixture
def db_path(tmp_path) -> str:
    return str(tmp_path / "sandbox.db")


@pytest.fixture
def config(db_path) -> Config:
    return Config(db_path=db_path)


@pytest.fixture
def app(config):
    return create_app(config)


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
        return Tenant(created["tenant_id"], created["server_key"], created["server_secret"],
                      account_id, self.login(created, account_id))

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
