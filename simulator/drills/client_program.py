"""The client program a drill runs: its command and environment (the run's tenant, account,
token and boletos), its instances started in their own sessions, waited for or killed at the
time limit, and their exit codes and output kept for the report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from pismo_sandbox.drills.errors import DrillError
from pismo_sandbox.drills.model import ClientRun, DrillResult
from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import Scenario
from pismo_sandbox.launcher import kill_group

OUTPUT_LIMIT = 20_000


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def client_section(scenario: Scenario) -> dict:
    """The scenario's client section (a drill run by its steps has none)."""
    if scenario.client is None:
        raise DrillError(f"drill {scenario.name} has no client")
    return scenario.client


def env_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


class ClientProgram:
    """Runs a scenario's client against the sandbox at ``base`` (``command_override`` replaces
    the scenario's command)."""

    def __init__(
        self, base: str, command_override: str | list[str] | None = None, echo: Callable[[str], None] | None = None
    ) -> None:
        self.base = base
        self.command_override = command_override
        self.echo = echo or (lambda _line: None)

    def command(self, scenario: Scenario, context: dict) -> list[str]:
        raw = self.command_override if self.command_override is not None else client_section(scenario)["command"]
        args = shlex.split(raw) if isinstance(raw, str) else list(raw)
        try:
            return [str(interpolate(arg, context)) for arg in args]
        except KeyError as error:
            raise DrillError(f"client.command: {error.args[0]}") from None

    def env(self, scenario: Scenario, context: dict, instance: int, context_file: str) -> dict:
        client = client_section(scenario)
        env = dict(os.environ)
        bin_dir = os.path.dirname(sys.executable)  # `python` is this interpreter, with requests
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        env.update(
            {
                "PISMO_BASE_URL": self.base,
                "PISMO_TENANT_ID": context["tenant_id"],
                "PISMO_ACCOUNT_ID": str(context["account_id"]),
                "PISMO_TOKEN": context["token"],
                "PISMO_SERVER_KEY": context["server_key"],
                "PISMO_SERVER_SECRET": context["server_secret"],
                "PISMO_DRILL_NAME": scenario.name,
                "PISMO_DRILL_CONTEXT": context_file,
                "PISMO_CLIENT_INSTANCE": str(instance),
                "PISMO_CLIENT_INSTANCES": str(client["instances"]),
                "PISMO_BOLETOS": json.dumps(list(context["boletos"].values())),
            }
        )
        if client["task"]:
            env["PISMO_DRILL_TASK"] = client["task"]
        for name, boleto in context["boletos"].items():
            for field in ("type", "bar_code", "digitable_line", "amount"):
                env[f"PISMO_BOLETO_{env_name(name)}_{field.upper()}"] = _env_value(boleto.get(field))
        try:
            for key, value in client["env"].items():
                env[key] = _env_value(interpolate(value, context))
        except KeyError as error:
            raise DrillError(f"client.env: {error.args[0]}") from None
        return env

    def run(self, scenario: Scenario, context: dict, result: DrillResult) -> None:
        client = client_section(scenario)
        command = self.command(scenario, context)
        cwd = os.getcwd()
        if client["cwd"]:
            cwd = os.path.join(scenario.directory, str(interpolate(client["cwd"], context)))
        result.client = {**client, "command": command, "cwd": cwd}
        self.echo(f"drill {scenario.name}: running {shlex.join(command)} x{client['instances']}")
        with tempfile.TemporaryDirectory(prefix="pismo-client-") as scratch:
            context_file = os.path.join(scratch, "context.json")
            with open(context_file, "w", encoding="utf-8") as out:
                json.dump({k: v for k, v in context.items() if k not in ("steps", "python")}, out, indent=2)
            running = []
            try:
                for instance in range(client["instances"]):
                    env = self.env(scenario, context, instance, context_file)
                    stdout = open(os.path.join(scratch, f"out-{instance}"), "w+b")
                    stderr = open(os.path.join(scratch, f"err-{instance}"), "w+b")
                    try:
                        process = subprocess.Popen(
                            command,
                            cwd=cwd,
                            stdout=stdout,
                            stderr=stderr,
                            stdin=subprocess.DEVNULL,
                            start_new_session=True,
                            env=env,
                        )
                    except OSError as error:
                        stdout.close()
                        stderr.close()
                        raise DrillError(f"client.command: cannot start {shlex.join(command)}: {error}") from None
                    running.append((ClientRun(instance, command), process, stdout, stderr, time.monotonic()))
                deadline = time.monotonic() + client["timeout_seconds"]
                waiting = list(running)
                while waiting:
                    for item in list(waiting):
                        run, process, _out, _err, began = item
                        if process.poll() is not None:
                            run.exit_code, run.duration = process.returncode, time.monotonic() - began
                            waiting.remove(item)
                        elif time.monotonic() > deadline:
                            run.timed_out, run.duration = True, time.monotonic() - began
                            kill_group(process)
                            waiting.remove(item)
                    time.sleep(0.02)
            except BaseException:  # failed or interrupted (Ctrl-C): the clients run in their own sessions
                for _run, process, stdout, stderr, _began in running:
                    if process.poll() is None:
                        kill_group(process)
                    stdout.close()
                    stderr.close()
                raise
            for run, _process, stdout, stderr, _began in running:
                for handle, attr in ((stdout, "stdout"), (stderr, "stderr")):
                    handle.seek(0)
                    text = handle.read().decode("utf-8", errors="replace")
                    handle.close()
                    setattr(run, attr, text[-OUTPUT_LIMIT:])
                result.runs.append(run)
