"""The drill runner: start a sandbox, and for each scenario reset it, set it up through the admin
API, install the faults, let the client (or the steps) run, let in-flight requests land, move the
clock, read back what the sandbox recorded, and judge it. The parts live beside it: setup.py,
exchanges.py (the drill's own requests), observation.py, judging.py, sandbox_process.py.

Isolation: one fresh sandbox per `pismo-sandbox drill` run (temporary database, free port,
`python -m pismo_sandbox serve`, started by pismo_sandbox.launcher), and `POST /_sandbox/reset`
before every scenario, checked to have left no tenant and no fault behind; reset deletes every
tenant, account, payment, idempotency record, event, journal row and fault rule and returns the
clock to wall time. `--isolation fresh`
starts one sandbox per scenario instead (slower, nothing shared at all).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

import requests

from pismo_sandbox.client import AdminClient, AdminError
from pismo_sandbox.drills import setup
from pismo_sandbox.drills.client_program import ClientProgram
from pismo_sandbox.drills.errors import DrillError, admin_step
from pismo_sandbox.drills.exchanges import Sender
from pismo_sandbox.drills.judging import judge
from pismo_sandbox.drills.model import DrillResult
from pismo_sandbox.drills.observation import Records
from pismo_sandbox.drills.sandbox_process import SandboxProcess
from pismo_sandbox.drills.scenario import Scenario
from pismo_sandbox.launcher import Sandbox


def _url(sandbox: Sandbox) -> str:
    if sandbox.url is None:
        raise DrillError("the sandbox is not running")
    return sandbox.url


__all__ = ["DrillRunner", "SandboxProcess", "run_drills"]

ADMIN_TIMEOUT = 30


class DrillRunner:
    """Plays scenarios against the sandbox at ``base_url`` (which it resets before each one)."""

    def __init__(
        self,
        base_url: str,
        client_command: str | list[str] | None = None,
        echo: Callable[[str], None] | None = None,
        admin_token: str | None = None,
        consumer_command: str | None = None,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.consumer_override = consumer_command
        self.http = requests.Session()
        self.client_override = client_command
        self.echo = echo or (lambda _line: None)
        self.client = AdminClient(self.base, admin_token, session=self.http, timeout=ADMIN_TIMEOUT)
        self.sender = Sender(self.base, self.http, self.client.admin_headers)
        self.records = Records(self.client)

    # -- one scenario -----------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> DrillResult:
        result = DrillResult(scenario.name, scenario.path, scenario.description)
        started = time.monotonic()
        try:
            self._run(scenario, result)
        except DrillError as error:
            result.error = str(error)
        except Exception as error:  # a runner bug must not stop the other drills
            result.error = f"the drill runner failed: {type(error).__name__}: {error}\n{traceback.format_exc()}"
        finally:
            result.duration = time.monotonic() - started
            try:
                self.client.clear_faults()
                if scenario.delivery_faults:
                    self.client.clear_delivery_faults()
            except AdminError:
                pass
        return result

    def _run(self, scenario: Scenario, result: DrillResult) -> None:
        self.echo(f"drill {scenario.name}: reset and setup")
        setup.reset(self.client)
        context = setup.set_up(self.client, scenario)
        consumer = None
        if scenario.consumer is not None:  # a consumer drill: the consumer runs, subscribed, throughout
            from pismo_sandbox.drills.consumer import ConsumerRun

            consumer = ConsumerRun(self, scenario, context, self.consumer_override)
        try:
            if consumer is not None:
                consumer.start()
            journal_mark = self.records.journal_mark()
            events_mark = self.records.events_mark()
            result.faults = setup.install_faults(self.client, scenario, context)
            if consumer is not None:
                consumer.install_faults()
            if scenario.steps is not None:
                self.echo(f"drill {scenario.name}: {len(scenario.steps)} step(s)")
                self.sender.run_steps(scenario, context, result)
            else:
                ClientProgram(self.base, self.client_override, self.echo).run(scenario, context, result)
            self.records.settle(scenario, context, result, journal_mark)
            for move in scenario.advance:
                seconds = move["seconds"] + 60 * move["minutes"] + 3600 * move["hours"] + 86400 * move["days"]
                with admin_step("advancing the clock"):
                    self.client.advance_clock(seconds)
                result.advanced_seconds += seconds
            if consumer is not None:
                consumer.wait(events_mark, result)
                consumer.run_check()
            result.observation = self.records.observe(context, result, journal_mark, events_mark)
            judge(scenario, context, result, self.sender)
            if consumer is not None:
                result.checks += consumer.judge(scenario.expect.get("deliveries"))
                result.delivery_faults, result.consumer = consumer.rules, consumer.describe()
        finally:
            if consumer is not None:
                consumer.stop()


def run_drills(
    scenarios: list[Scenario],
    *,
    base_url: str | None = None,
    isolation: str = "reset",
    client_command: str | None = None,
    workers: int = 2,
    on_result: Callable[[DrillResult], None] | None = None,
    echo: Callable[[str], None] | None = None,
    admin_token: str | None = None,
    consumer_command: str | None = None,
) -> list[DrillResult]:
    """Run every scenario; a fresh sandbox unless ``base_url`` names one to use (and reset,
    with ``admin_token`` if it requires one)."""
    results: list[DrillResult] = []

    def play(runner: DrillRunner, scenario: Scenario) -> None:
        result = runner.run(scenario)
        results.append(result)
        if on_result:
            on_result(result)

    def failed_to_start(scenario: Scenario, error: DrillError) -> None:
        result = DrillResult(scenario.name, scenario.path, scenario.description, error=str(error))
        results.append(result)
        if on_result:
            on_result(result)

    if base_url:
        runner = DrillRunner(base_url, client_command, echo, admin_token, consumer_command)
        for scenario in scenarios:
            play(runner, scenario)
        return results
    if isolation == "fresh":
        for scenario in scenarios:
            try:
                with SandboxProcess(workers=workers) as sandbox:
                    play(DrillRunner(_url(sandbox), client_command, echo, consumer_command=consumer_command), scenario)
            except DrillError as error:
                failed_to_start(scenario, error)
        return results
    try:
        with SandboxProcess(workers=workers) as sandbox:
            runner = DrillRunner(_url(sandbox), client_command, echo, consumer_command=consumer_command)
            for scenario in scenarios:
                play(runner, scenario)
    except DrillError as error:
        for scenario in scenarios[len(results) :]:
            failed_to_start(scenario, error)
    return results
