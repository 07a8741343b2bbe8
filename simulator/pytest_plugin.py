"""The pytest plugin (registered through the ``pytest11`` entry point, so ``pip install
pismo-sandbox`` is all a test suite needs): fixtures that give a test a running sandbox, a fresh
logged-in account, and fault rules that last one test. docs/python-api.md shows them in use.

Lazy: nothing starts unless a test asks for one of the fixtures.

    pismo_sandbox   session: a Sandbox (``.base_url``, ``.admin``); started once, or the one at
                    --pismo-sandbox-url / ini pismo_sandbox_url / env PISMO_SANDBOX_URL
    pismo_account   per test: a fresh tenant and NORMAL account (``.tenant_id``, ``.account_id``,
                    ``.token``, ``.headers``)
    pismo_faults    per test: ``.add(rule, account=...)`` installs a fault rule; every rule it
                    installed is removed after the test. ``@pytest.mark.pismo_faults(rule, ...)``
                    installs rules for the marked test.
    pismo_events    per test: a local receiver subscribed to the sandbox (``.received``,
                    ``.wait_for(event_type, ...)``); unsubscribed after the test
                    (pismo_sandbox.receiver).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pismo_sandbox.client import AccountSession, AdminClient, FaultRule
    from pismo_sandbox.launcher import Sandbox
    from pismo_sandbox.receiver import EventReceiver

URL_ENV = "PISMO_SANDBOX_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pismo-sandbox", "pismo-sandbox fixtures")
    group.addoption(
        "--pismo-sandbox-url",
        dest="pismo_sandbox_url",
        default=None,
        help=f"use the sandbox running at this URL instead of starting one [env {URL_ENV}]",
    )
    group.addoption(
        "--pismo-sandbox-admin-token",
        dest="pismo_sandbox_admin_token",
        default=None,
        help="admin token of that sandbox, if it requires one [env PISMO_SANDBOX_ADMIN_TOKEN]",
    )
    parser.addini("pismo_sandbox_url", "URL of a running sandbox to use instead of starting one")
    parser.addini("pismo_sandbox_workers", "gunicorn workers of the started sandbox", default="1")
    parser.addini("pismo_sandbox_state", "state file the started sandbox loads (serve --state)")
    parser.addini("pismo_sandbox_faults", "fault file the started sandbox loads (serve --faults)")
    parser.addini(
        "pismo_sandbox_settings",
        "settings of the started sandbox, NAME=VALUE per line (e.g. token_ttl_seconds=60)",
        type="linelist",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pismo_faults(*rules): fault rules (the admin API's format) installed in the pismo-sandbox for this test only",
    )


class FaultRules:
    """Fault rules installed for one test; ``remove()`` deletes exactly those."""

    def __init__(self, admin: AdminClient):
        self.admin = admin
        self.installed: list[FaultRule] = []

    def add(self, rule: dict | None = None, *, account: AccountSession | None = None, **fields: object) -> FaultRule:
        """Install ``rule`` (match, action, phase, schedule, description); ``account`` (an
        AccountSession) narrows it to that account's requests."""
        rule = {**(rule or {}), **fields}
        if account is not None:
            rule["match"] = {**rule.get("match", {}), "tenant_id": account.tenant_id, "account_id": account.account_id}
        installed = self.admin.add_fault(rule)
        self.installed.append(installed)
        return installed

    def refreshed(self) -> list[FaultRule]:
        """The installed rules as the sandbox now reports them (with matched and fired counts)."""
        return [self.admin.fault(rule["id"]) for rule in self.installed]

    def remove(self) -> None:
        from pismo_sandbox.client import AdminError

        for rule in self.installed:
            try:
                self.admin.delete_fault(rule["id"])
            except AdminError as error:
                if error.status != 404:  # already gone (a reset): nothing to undo
                    raise
        self.installed.clear()


def _option(config: pytest.Config, name: str) -> str | None:
    """The command-line option, else the ini setting of the same name."""
    return config.getoption(name, default=None) or config.getini(name) or None


@pytest.fixture(scope="session")
def pismo_sandbox(pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """A running pismo-sandbox for the whole session (``.base_url``, ``.admin``)."""
    from pismo_sandbox.launcher import Sandbox

    url = _option(pytestconfig, "pismo_sandbox_url") or os.environ.get(URL_ENV)
    admin_token = pytestconfig.getoption("pismo_sandbox_admin_token", default=None) or os.environ.get(
        "PISMO_SANDBOX_ADMIN_TOKEN"
    )
    if url:
        sandbox = Sandbox.connect(url, admin_token)
        sandbox.admin.health()
        yield sandbox
        return
    settings = {}
    for line in pytestconfig.getini("pismo_sandbox_settings"):
        name, _, value = line.partition("=")
        settings[name.strip()] = value.strip()
    root = str(pytestconfig.rootpath)

    def path(value: str | None) -> str | None:
        return os.path.join(root, value) if value else None

    with Sandbox(
        workers=int(pytestconfig.getini("pismo_sandbox_workers") or 1),
        settings=settings,
        state=path(pytestconfig.getini("pismo_sandbox_state") or None),
        faults=path(pytestconfig.getini("pismo_sandbox_faults") or None),
    ) as sandbox:
        yield sandbox


@pytest.fixture
def pismo_account(pismo_sandbox: Sandbox) -> AccountSession:
    """A fresh tenant with one NORMAL account, logged in: ``.tenant_id``, ``.account_id``,
    ``.token``, ``.headers`` (the Authorization header), ``.server_key``, ``.server_secret``."""
    return pismo_sandbox.admin.new_account()


@pytest.fixture
def pismo_faults(pismo_sandbox: Sandbox, request: pytest.FixtureRequest) -> Iterator[FaultRules]:
    """Fault rules for this test: ``pismo_faults.add(rule)``; removed after the test."""
    rules = FaultRules(pismo_sandbox.admin)
    try:
        for marker in request.node.iter_markers("pismo_faults"):
            for rule in marker.args:
                rules.add(rule)
        yield rules
    finally:
        rules.remove()


@pytest.fixture(autouse=True)
def _pismo_faults_marker(request: pytest.FixtureRequest) -> None:
    """Installs the rules of a ``pismo_faults`` marker even when the test does not name the
    fixture; does nothing (starts nothing) for unmarked tests."""
    if request.node.get_closest_marker("pismo_faults") is not None:
        request.getfixturevalue("pismo_faults")


@pytest.fixture
def pismo_events(pismo_sandbox: Sandbox) -> Iterator[EventReceiver]:
    """A receiver on a loopback port, subscribed to the session's sandbox for this test:
    ``.received`` (every event pushed since, in arrival order) and ``.wait_for(event_type,
    tenant_id=None, data=None, timeout=30)``. Its subscription is removed after the test."""
    from pismo_sandbox.receiver import EventReceiver

    receiver = EventReceiver().start()
    try:
        receiver.subscribe(pismo_sandbox.admin)
        yield receiver
    finally:
        receiver.close()
