"""The verdict on one drill: the client's exit codes (and time-outs), the invariants, and the
scenario's assertions (requests sent now through the Sender, or counts over the Observation)."""

from __future__ import annotations

from pismo_sandbox.drills import assertions, invariants
from pismo_sandbox.drills.errors import DrillError
from pismo_sandbox.drills.exchanges import Sender
from pismo_sandbox.drills.model import Check, DrillResult
from pismo_sandbox.drills.references import interpolate
from pismo_sandbox.drills.scenario import Scenario


def judge(scenario: Scenario, context: dict, result: DrillResult, sender: Sender) -> None:
    """Append the drill's checks (and notes) to ``result``, whose observation is read."""
    obs = result.observation
    if obs is None:
        raise DrillError("the drill was judged before the sandbox's records were read")
    timeout_seconds = (scenario.client or {}).get("timeout_seconds", 0)
    expected_exit = scenario.expect["client_exit_code"]
    for run in result.runs:
        name = "client exit code" + (f" (instance {run.instance})" if len(result.runs) > 1 else "")
        line = scenario.line_of(("expect", "client_exit_code")) or scenario.line_of(("client",))
        if run.timed_out:
            result.checks.append(
                Check(
                    "client",
                    name,
                    False,
                    f"the client did not finish in {timeout_seconds:g} s and was killed",
                    [],
                    [],
                    line,
                )
            )
        elif expected_exit is not None:
            passed = run.exit_code == expected_exit
            result.checks.append(
                Check(
                    "client",
                    name,
                    passed,
                    f"exited {run.exit_code}" + ("" if passed else f", expected {expected_exit}"),
                    [],
                    [],
                    line,
                )
            )
    for check in invariants.evaluate(obs, scenario.expect["invariants"]):
        check.line = scenario.line_of(("expect", "invariants", check.name), exact=True)
        result.checks.append(check)
    for i, assertion in enumerate(scenario.expect["assertions"]):
        line = scenario.line_of(("expect", "assertions", i))
        if assertion["kind"] == "request":
            name = assertion.get("description") or "probe"
            try:
                exchange = sender.send(name, assertion["request"], context)
                expect = interpolate(assertion["expect"], context)
            except KeyError as error:
                raise DrillError(f"expect.assertions[{i}]: {error.args[0]}") from None
            result.exchanges.append(exchange)
            result.checks.append(assertions.response_check("assertion", name, exchange, expect, line, []))
        else:
            result.checks.append(assertions.count_check(assertion, obs, line))
    if obs.journal_truncated:
        result.notes.append("more than 1000 requests in the drill window: the journal read may be incomplete")
