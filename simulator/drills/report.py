"""Drill reports: a readable text report (what was injected, what the client did, which check
failed and why, with the requests involved) and a JUnit XML file for CI."""

from __future__ import annotations

import shlex
import textwrap

from pismo_sandbox import junit
from pismo_sandbox.drills.invariants import describe_row, fault_text
from pismo_sandbox.drills.model import Check, DrillResult

MAX_JOURNAL_LINES = 40
OUTPUT_TAIL_LINES = 15


def _tail(text: str, lines: int = OUTPUT_TAIL_LINES) -> list[str]:
    return text.rstrip().splitlines()[-lines:] if text.strip() else []


def _check_lines(check: Check, faults_by_id: dict, verbose: bool) -> list[str]:
    where = f" (line {check.line})" if check.line else ""
    label = f"{check.kind} {check.name}" if check.kind in ("invariant", "step") else check.name
    lines = [f"    {'PASS' if check.passed else 'FAIL'} {label}{where}: {check.summary}"]
    if not check.passed or verbose:
        lines += [f"         {d}" for d in check.details]
        shown = "\n".join(check.details)
        rows = [describe_row(r, faults_by_id) for r in check.requests]
        rows = [row for row in rows if row not in shown]  # not already listed in the details
        if rows:
            lines.append("         requests involved:")
            lines += [f"           {row}" for row in rows]
    return lines


def passed_line(result: DrillResult) -> str:
    """A passing drill in one line."""
    return f"PASS drill {result.name} ({result.duration:.1f} s, {len(result.checks)} check(s))"


def delivery_fault_text(rule: dict) -> str:
    """A delivery fault rule on one line, with its counters."""
    action = dict(rule.get("action", {}))
    kind = action.pop("type", "?")
    params = ", ".join(f"{k}={v}" for k, v in action.items() if k != "distribution" or v != "fixed")
    match = ", ".join(f"{k}={v}" for k, v in rule.get("match", {}).items() if k != "subscription_id")
    return (
        f"{rule.get('id')}: {kind}{f' ({params})' if params else ''}"
        f"{f' of {match}' if match else ''}  [matched {rule.get('matched', 0)}, fired {rule.get('fired', 0)}]"
    )


def text_report(result: DrillResult, verbose: bool = False) -> str:
    """One drill, readable."""
    verdict = "PASS" if result.passed else ("ERROR" if result.error else "FAIL")
    lines = [f"=== drill {result.name}: {verdict} ({result.duration:.1f} s)  [{result.path}]"]
    lines += textwrap.wrap(result.description, 100, initial_indent="  ", subsequent_indent="  ")
    faults_by_id = {r["id"]: r for r in result.faults if "id" in r}
    if result.faults:
        lines.append("  injected:")
        for rule in result.faults:
            counters = f"matched {rule.get('matched', 0)}, fired {rule.get('fired', 0)}"
            lines.append(f"    {rule.get('id')}: {fault_text(rule)}  [{counters}]")
    elif not result.delivery_faults:
        lines.append("  injected: nothing (no fault rules)")
    if result.delivery_faults:
        lines.append("  injected into event delivery:")
        lines += [f"    {delivery_fault_text(rule)}" for rule in result.delivery_faults]
    if result.consumer is not None:
        lines.append(
            f"  consumer: {shlex.join(result.consumer['command'])} ({result.consumer['format']},"
            f" {result.consumer['subscription_id']})"
        )
    if result.client is not None:
        task = f" (task {result.client['task']})" if result.client.get("task") else ""
        lines.append(f"  client: {shlex.join(result.client['command'])}{task}")
        for run in result.runs:
            who = f"instance {run.instance}: " if len(result.runs) > 1 else ""
            ended = "killed after the timeout" if run.timed_out else f"exited {run.exit_code}"
            lines.append(f"    {who}{ended} after {run.duration:.1f} s")
            client_failed = run.timed_out or any(not c.passed for c in result.checks if c.kind == "client")
            if verbose or client_failed or not result.passed:
                for label, text in (("stdout", run.stdout), ("stderr", run.stderr)):
                    tail = _tail(text)
                    if tail:
                        lines.append(f"      {label} (last {len(tail)} lines):")
                        lines += [f"      | {line}" for line in tail]
    if result.exchanges:
        lines.append("  the runner's requests:")
        lines += [f"    {e.name}: {e.describe()} ({e.duration * 1000:.0f} ms)" for e in result.exchanges]
    obs = result.observation
    if obs is not None:
        who = "the steps" if result.client is None else "the client"
        lines.append(f"  what {who} did ({len(obs.journal)} request(s) in the journal):")
        shown = obs.journal if verbose else obs.journal[:MAX_JOURNAL_LINES]
        lines += [f"    {describe_row(r, faults_by_id)}" for r in shown]
        if len(shown) < len(obs.journal):
            lines.append(f"    ... and {len(obs.journal) - len(shown)} more (--verbose shows all)")
        if obs.payments:
            lines.append(f"  payments ({len(obs.payments)}):")
            for p in obs.payments:
                boleto = obs.boleto_named(p["bar_code"])
                history = " -> ".join(h["new_status"] for h in p.get("history", []))
                lines.append(
                    f"    authorization {p['authorization_id']} boleto {boleto or p['bar_code']!r}"
                    f" key={p.get('idempotency_key')} {p['status']} ({history})"
                )
    if result.advanced_seconds:
        lines.append(f"  clock advanced {result.advanced_seconds:g} s after the client finished")
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.error:
        lines.append("  ERROR: the drill could not be run:")
        lines += [f"    {line}" for line in result.error.splitlines()]
    if result.checks:
        lines.append("  checks:")
        for check in result.checks:
            lines += _check_lines(check, faults_by_id, verbose)
    return "\n".join(lines)


def summary_line(results: list[DrillResult]) -> str:
    passed = sum(1 for r in results if r.passed)
    errors = sum(1 for r in results if r.error)
    failed = len(results) - passed - errors
    failing = [r.name for r in results if not r.passed]
    text = f"{len(results)} drill(s): {passed} passed, {failed} failed, {errors} could not run"
    return text + (f" ({', '.join(failing)})" if failing else "")


# -- JUnit XML -----------------------------------------------------------------------------------------


def junit_xml(results: list[DrillResult]) -> str:
    """JUnit XML: one <testsuite> per drill, one <testcase> per check; a drill that could not run
    is one <testcase> with an <error>. Written by the shared writer (pismo_sandbox.junit)."""
    suites = []
    for result in results:
        properties = [("description", result.description)]
        if result.client is not None:
            properties.append(("client", shlex.join(result.client["command"])))
        properties += [(f"fault {rule.get('id')}", fault_text(rule)) for rule in result.faults]
        classname = f"drills.{result.name}"
        suite = junit.Suite(
            name=result.name,
            properties=properties,
            time=result.duration,
            file=result.path,
            system_out=text_report(result, verbose=True),
        )
        if result.error:
            suite.cases.append(
                junit.Case(
                    "run",
                    classname,
                    errors=[junit.Outcome(result.error.splitlines()[0][:500], "DrillError", result.error)],
                )
            )
        faults_by_id = {r["id"]: r for r in result.faults if "id" in r}
        for check in result.checks:
            case = junit.Case(f"{check.kind}: {check.name}", classname)
            if not check.passed:
                case.failures.append(
                    junit.Outcome(check.summary, check.kind, "\n".join(_check_lines(check, faults_by_id, True)))
                )
            suite.cases.append(case)
        suites.append(suite)
    return junit.to_xml(suites, "pismo-sandbox drills")


def write_junit(results: list[DrillResult], path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(junit_xml(results))
