"""Consumer drills: start the consumer under test on a free port, subscribe it, install the
delivery faults on its subscription, wait until every event was pushed (acknowledged or given
up on), run the user's check of the consumer's own state, and judge the delivery log.

The verdicts name what went wrong: the check command's output, and every event the sandbox
delivered more than once (the events a consumer that does not deduplicate counts twice).
"""

from __future__ import annotations

import collections
import copy
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING

from pismo_sandbox.client import AdminError
from pismo_sandbox.domains.deliveries.outbox import filter_matches
from pismo_sandbox.drills.errors import DrillError, admin_step
from pismo_sandbox.drills.model import Check, DrillResult
from pismo_sandbox.launcher import free_port, kill_group
from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import Scenario

if TYPE_CHECKING:
    from pismo_sandbox.drills.runner import DrillRunner

POLL_SECONDS = 0.2
CHECK_TIMEOUT_SECONDS = 60
OUTPUT_TAIL = 15


def _tail(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().rstrip().splitlines()[-OUTPUT_TAIL:]
    except OSError:
        return []


class ConsumerRun:
    """One consumer drill's consumer: started, subscribed, waited for, checked, stopped."""

    def __init__(
        self, runner: DrillRunner, scenario: Scenario, context: dict, command_override: str | None = None
    ) -> None:
        if scenario.consumer is None:
            raise DrillError(f"drill {scenario.name} has no consumer")
        self.runner = runner
        self.scenario = scenario
        self.spec: dict = scenario.consumer
        self.context = context
        self.command_override = command_override
        self.directory = tempfile.mkdtemp(prefix="pismo-consumer-")
        self.process: subprocess.Popen | None = None
        self.subscription: dict | None = None
        self.rules: list[dict] = []
        self.checks: list[Check] = []
        self.log_path = os.path.join(self.directory, "consumer.log")

    # -- environment -------------------------------------------------------------------------------
    def _args(self, raw: str | list[str]) -> list[str]:
        args = shlex.split(raw) if isinstance(raw, str) else list(raw)
        return [str(interpolate(arg, self.context)) for arg in args]

    def _env(self) -> dict:
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        env.update(
            {
                "PISMO_BASE_URL": self.runner.base,
                "PISMO_TENANT_ID": self.context["tenant_id"],
                "PISMO_CONSUMER_URL": self.context["consumer_url"],
                "PISMO_CONSUMER_PORT": str(self.context["consumer_port"]),
                "PISMO_CONSUMER_DIR": self.directory,
                "PISMO_CONSUMER_SECRET": self.context["consumer_secret"],
                "PISMO_DRILL_NAME": self.scenario.name,
            }
        )
        if self.subscription:
            env["PISMO_SUBSCRIPTION_ID"] = self.subscription["subscription_id"]
        if self.runner.client.admin_token:  # a --base-url sandbox that requires the admin token
            env["PISMO_SANDBOX_ADMIN_TOKEN"] = self.runner.client.admin_token
        for key, value in self.spec["env"].items():
            env[key] = str(interpolate(value, self.context))
        return env

    def _cwd(self) -> str:
        if self.spec["cwd"]:
            return os.path.join(self.scenario.directory, str(interpolate(self.spec["cwd"], self.context)))
        return os.getcwd()

    # -- life cycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the consumer and wait until its port accepts connections, then subscribe it."""
        port = free_port()
        self.context.update(
            consumer_port=port,
            consumer_dir=self.directory,
            consumer_url=f"http://127.0.0.1:{port}{self.spec['path']}",
            consumer_secret=self.spec.get("secret") or secrets.token_hex(16),
        )
        try:
            command = self._args(self.command_override or self.spec["command"])
        except KeyError as error:
            raise DrillError(f"consumer.command: {error.args[0]}") from None
        self.runner.echo(f"drill {self.scenario.name}: consumer {shlex.join(command)}")
        log = open(self.log_path, "wb")
        try:
            self.process = subprocess.Popen(
                command,
                cwd=self._cwd(),
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as error:
            raise DrillError(f"consumer.command: cannot start {shlex.join(command)}: {error}") from None
        finally:
            log.close()
        deadline = time.monotonic() + self.spec["ready_timeout_seconds"]
        while True:
            if self.process.poll() is not None:
                raise DrillError(
                    f"the consumer exited ({self.process.returncode}) before listening on port"
                    f" {port}:\n" + "\n".join(_tail(self.log_path))
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise DrillError(
                        f"the consumer did not listen on port {port} within {self.spec['ready_timeout_seconds']:g} s"
                    ) from None
                time.sleep(0.05)
        self._subscribe()

    def _subscribe(self) -> None:
        flt = {k: v for k, v in (self.spec["filter"] or {}).items() if v is not None}
        if "tenant" in flt:
            flt["tenant_id"] = self.context["tenants"][flt.pop("tenant")]["tenant_id"]
        retry = {k: v for k, v in (self.spec["retry"] or {}).items() if v is not None}
        with admin_step("consumer (subscription)"):
            self.subscription = self.runner.client.subscribe(
                self.context["consumer_url"],
                self.spec["format"],
                secret=self.context["consumer_secret"],
                filter=flt or None,
                retry=retry or None,
            )

    def _subscribed(self) -> dict:
        """The consumer's subscription (made when it started)."""
        if self.subscription is None:
            raise DrillError("the consumer is not subscribed yet")
        return self.subscription

    def install_faults(self) -> None:
        for i, rule in enumerate(self.scenario.delivery_faults):
            rule = copy.deepcopy(rule)
            rule.setdefault("match", {}).setdefault("subscription_id", self._subscribed()["subscription_id"])
            with admin_step(f"delivery_faults[{i}]"):
                self.rules.append(self.runner.client.add_delivery_fault(rule))

    def deliveries(self) -> list[dict]:
        with admin_step("reading the delivery log"):
            return self.runner.client.deliveries(subscription_id=self._subscribed()["subscription_id"], limit=1000)

    def wait(self, events_mark: int, result: DrillResult) -> None:
        """Until every event of the window that the subscription takes has deliveries and none
        is pending or held (or the consumer's timeout)."""
        started = time.monotonic()
        flt = self._subscribed()["filter"]
        while True:
            with admin_step("reading events"):
                events = self.runner.client.events(after=events_mark, limit=1000)
            wanted = {e["event_id"] for e in events if filter_matches(flt, e)}
            log = self.deliveries()
            delivered_for = {d["event_id"] for d in log if d["kind"] == "event"}
            open_ = [d for d in log if d["status"] in ("pending", "held")]
            if wanted <= delivered_for and not open_:
                return
            if time.monotonic() - started > self.spec["timeout_seconds"]:
                result.notes.append(
                    f"deliveries were still open {self.spec['timeout_seconds']:g} s after the"
                    f" drill: {len(open_)} pending or held, {len(wanted - delivered_for)}"
                    " event(s) not yet turned into deliveries; judged what had happened"
                )
                return
            time.sleep(POLL_SECONDS)

    def run_check(self) -> None:
        if self.spec["check"] is None:
            return
        line = self.scenario.line_of(("consumer", "check"))
        command = self._args(self.spec["check"])
        try:
            done = subprocess.run(
                command,
                cwd=self._cwd(),
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            self.checks.append(
                Check("consumer", "consumer check", False, f"{shlex.join(command)}: {error}", [], [], line)
            )
            return
        output = (done.stdout + done.stderr).rstrip().splitlines()
        passed = done.returncode == 0
        details = [f"| {text}" for text in output[-OUTPUT_TAIL * 2 :]]
        if not passed:
            details += self._duplicates()
        summary = (
            "the consumer's state is right"
            if passed
            else f"the consumer's state is wrong ({shlex.join(command)} exited {done.returncode})"
        )
        self.checks.append(Check("consumer", "consumer check", passed, summary, details, [], line))

    def _duplicates(self) -> list[str]:
        """The events the sandbox pushed (and the consumer acknowledged) more than once."""
        log = self.deliveries()
        acknowledged = collections.Counter(
            d["event_id"] for d in log if d["kind"] == "event" and d["status"] == "delivered"
        )
        types = {d["event_id"]: d["event_type"] for d in log}
        faults = {d["event_id"]: d["fault"] for d in log if d["fault"]}
        lines = []
        for event_id, times in acknowledged.items():
            if times > 1:
                why = (
                    f" (delivery fault {faults[event_id]['rule_id']}: {faults[event_id]['action']})"
                    if event_id in faults
                    else ""
                )
                lines.append(f"delivered {times} times: event {event_id} ({types[event_id]}){why}")
        return lines

    def judge(self, expect: dict | None) -> list[Check]:
        """The delivery expectations, the delivery faults' counters, and the check's verdict."""
        checks = list(self.checks)
        log = [d for d in self.deliveries() if d["kind"] == "event"]
        expect = expect or {"all_acknowledged": True, "max_attempts": None}
        line = self.scenario.line_of(("expect", "deliveries"))
        if self.process is not None and self.process.poll() is not None:
            checks.append(
                Check(
                    "consumer",
                    "consumer kept running",
                    False,
                    f"the consumer exited ({self.process.returncode}) during the drill",
                    _tail(self.log_path),
                    [],
                    self.scenario.line_of(("consumer",)),
                )
            )
        if expect["all_acknowledged"]:
            unacknowledged = [d for d in log if d["status"] != "delivered"]
            details = [
                f"{d['status']}: event {d['event_id']} ({d['event_type']}) after {len(d['attempts'])}"
                f" attempt(s); last: {_last(d)}"
                for d in unacknowledged
            ]
            checks.append(
                Check(
                    "delivery",
                    "every event acknowledged",
                    not unacknowledged,
                    f"{len(log) - len(unacknowledged)} of {len(log)} deliveries acknowledged",
                    details,
                    [],
                    line,
                )
            )
        if expect["max_attempts"] is not None:
            over = [d for d in log if len(d["attempts"]) > expect["max_attempts"]]
            checks.append(
                Check(
                    "delivery",
                    "retries bounded",
                    not over,
                    f"at most {max([len(d['attempts']) for d in log] + [0])} attempt(s) per delivery"
                    f" (limit {expect['max_attempts']})",
                    [f"event {d['event_id']}: {len(d['attempts'])} attempts" for d in over],
                    [],
                    line,
                )
            )
        listed_rules = []
        for rule in self.rules:
            with admin_step("reading delivery faults"):
                listed = self.runner.client.delivery_fault(rule["id"])
            listed_rules.append(listed)
            action = listed["action"]["type"]
            checks.append(
                Check(
                    "delivery",
                    f"delivery fault {rule['id']} ({action}) fired",
                    listed["fired"] > 0,
                    f"matched {listed['matched']}, fired {listed['fired']}",
                    [],
                    [],
                    self.scenario.line_of(("delivery_faults",)),
                )
            )
        self.rules = listed_rules
        return checks

    def describe(self) -> dict:
        """The consumer as run, for the report."""
        secret = self.context["consumer_secret"]
        command = [arg.replace(secret, "***") for arg in self._args(self.command_override or self.spec["command"])]
        return {
            "command": command,
            "format": self.spec["format"],
            "subscription_id": self._subscribed()["subscription_id"],
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            kill_group(self.process)
        if self.subscription is not None:
            try:
                self.runner.client.unsubscribe(self.subscription["subscription_id"])
            except AdminError:  # already gone, or the sandbox is; a reset removes it anyway
                pass
        shutil.rmtree(self.directory, ignore_errors=True)


def _last(delivery: dict) -> str:
    if not delivery["attempts"]:
        return "never attempted"
    attempt = delivery["attempts"][-1]
    return (
        attempt["outcome"]
        + (f" {attempt['http_status']}" if attempt["http_status"] else "")
        + (f" ({attempt['error']})" if attempt["error"] and not attempt["http_status"] else "")
    )
