"""What a contract run says: the progress lines printed while it runs (one per operation), the
summary table and failure reports at the end (the request, the offending response and a hint
pointing at what to fix), and the JUnit XML report (written by pismo_sandbox.junit)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

from pismo_sandbox import junit

if TYPE_CHECKING:  # pragma: no cover
    from schemathesis import Response
    from schemathesis.engine.recorder import Request

    from pismo_sandbox.contracts.results import Finding, HarnessResult, OperationResult

T = TypeVar("T")

BODY_LIMIT = 600  # characters of a request or response body shown in a failure report
HEADER_NAMES = ("content-type", "x-cid", "x-idempotency-replayed", "x-sandbox-fault", "location")
MESSAGE_LINES = 12  # lines of a check's message shown in the text report
SHOWN_PER_CHECK = 3  # distinct failures printed per operation and check


# -- excerpts of a failing exchange ------------------------------------------------------------


def printable(text: str) -> str:
    """``text`` safe for a terminal and for XML: control characters as visible escapes."""
    return "".join(
        c if c.isprintable() or c in "\n\t" else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
        for c in text
    )


def _sanitized(value: T) -> T:
    """Secret-looking fields and headers replaced by [Filtered] (Schemathesis's own rules, the
    ones its reproduction commands use)."""
    from schemathesis.config import SanitizationConfig
    from schemathesis.core.output.sanitization import sanitize_value

    sanitize_value(value, config=SanitizationConfig())
    return value


def body_excerpt(content: bytes | str | None, limit: int = BODY_LIMIT) -> str:
    """A body as text: JSON re-serialised compactly with secrets filtered, anything else as
    text; cut at ``limit`` characters with a note of how much was left out."""
    if content is None or content == b"" or content == "":
        return "(empty)"
    raw = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    try:
        text = json.dumps(_sanitized(json.loads(raw)), ensure_ascii=False)
    except (ValueError, RecursionError):
        text = raw
    text = printable(text)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    return text


def _header_value(headers: Mapping[str, list[str] | str] | None, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return value


def request_excerpt(request: Request) -> str:
    """``METHOD URI`` and the body sent (a Schemathesis recorder Request)."""
    from schemathesis.config import SanitizationConfig
    from schemathesis.core.output.sanitization import sanitize_url

    line = f"{request.method} {printable(sanitize_url(request.uri, config=SanitizationConfig()))}"
    content_type = _header_value(request.headers, "content-type") or _header_value(request.headers, "Content-Type")
    if request.body is not None:
        line += f"\n  body{f' ({content_type})' if content_type else ''}: {body_excerpt(request.body)}"
    return line


def response_excerpt(response: Response) -> str:
    """``status``, the headers that explain an answer, and the body received."""
    shown = [(name, _header_value(response.headers, name)) for name in HEADER_NAMES]
    headers = "; ".join(f"{name}: {printable(str(value))}" for name, value in shown if value)
    line = f"{response.status_code}{f' ({headers})' if headers else ''}"
    return line + f"\n  body: {body_excerpt(response.content)}"


# -- hints -------------------------------------------------------------------------------------

# What each check's failure means, in terms of the target's behaviour.
MEANINGS = {
    "not_a_server_error": "the target answered 5xx: the response body above is its explanation",
    "status_code_conformance": "the target answered a status this operation does not document",
    "content_type_conformance": "the response's Content-Type is not one this operation documents",
    "response_headers_conformance": "a documented response header is missing or malformed",
    "response_schema_conformance": "the response body does not match the documented schema",
    "negative_data_rejection": "the target accepted a request the spec forbids (it should answer 4xx)",
    "positive_data_acceptance": "the target refused a request the spec allows",
    "missing_required_header": "the target accepted a request without a required header",
    "ignored_auth": "the target answered without checking the credentials",
    "use_after_free": "a resource was still readable after the target confirmed its deletion",
    "ensure_resource_availability": "a resource the target just created could not be read back",
    "unsupported_method": "an undocumented HTTP method did not get 405 with an Allow header",
    "allow_header_conformance": "the Allow header of a 405 does not list the documented methods",
    "object_level_authorization": "one account could reach another account's resource",
    "response_has_x_cid": "the response has no x-cid tracking header (Pismo's gateway sets one)",
    "documented_error_envelope": "the error body is not the documented envelope with a code this "
    "operation documents for that status",
    "idempotent_replay_returns_same_body": "a replay with the same idempotency key did not return the first answer",
}


def hint(check: str, simulator: bool) -> str:
    """One line: what the failure means and where the fix goes, for the kind of target tested."""
    meaning = MEANINGS.get(check, f"the {check} check failed")
    if simulator:
        where = (
            "fix the simulator (simulator/); if the bundled spec is what is wrong, repair it "
            "with an overlay and an entry in contracts/openapi/ERRATA.md"
        )
    else:
        where = (
            "the target differs from the bundled contract: if the target is right, record the "
            "difference as an overlay (contracts/openapi/ERRATA.md); otherwise report it to the "
            "target's owner"
        )
    return f"{meaning}; {where}"


# -- progress ----------------------------------------------------------------------------------


def operation_line(op: "OperationResult", errored: bool = False) -> str:
    """The progress line of an operation once every unit phase has run on it."""
    verdict = "FAIL" if op.failed else ("ERROR" if errored else "ok")
    failures = ", ".join(f"{name} x{n}" for name, n in sorted(op.failed_checks.items()))
    return (
        f"  {verdict:<5} {op.label}  ({op.cases} cases, {sum(op.checks.values())} checks"
        + (f"; failed: {failures}" if failures else "")
        + ")"
    )


# -- the summary -------------------------------------------------------------------------------


def summary(result: "HarnessResult", verbose: bool = True) -> str:
    """The summary table (one row per document under test, a line under it per failed
    operation), notes, then every failure (``verbose``), errors and the verdict."""
    lines = [
        f"pismo-sandbox contract: {result.target}; seed {result.seed}; "
        f"{result.examples} examples per operation and phase"
    ]
    rows = []
    for group in result.groups:
        names = {source.name for source in group.sources}
        ops = sorted((op for op in result.operations.values() if op.spec in names), key=lambda op: op.label)
        failed = [op for op in ops if op.failed]
        rows.append((group, ops, failed))
    if rows and result.operations:
        width = max([len("base path")] + [len(group.base_path or "/") for group, _, _ in rows])
        lines += [
            "",
            f"  {'result':<6}  {'base path':<{width}}  {'operations':>10}  {'cases':>6}  {'checks':>7}"
            f"  {'time':>7}  documents",
        ]
        for group, ops, failed in rows:
            verdict = "FAIL" if failed else ("ok" if ops else "-")
            lines.append(
                f"  {verdict:<6}  {group.base_path or '/':<{width}}  {len(ops):>10}  "
                f"{sum(op.cases for op in ops):>6}  {sum(sum(op.checks.values()) for op in ops):>7}  "
                f"{group.duration:>5.1f} s  {', '.join(s.name for s in group.sources)}"
            )
            for op in failed:
                checks = ", ".join(f"{name} x{n}" for name, n in sorted(op.failed_checks.items()))
                lines.append(f"          FAIL {op.label}: {checks}")
            if group.links:
                lines.append(f"          links: {', '.join(group.links)}")
            if group.links_skipped:
                lines.append(f"          links skipped: {', '.join(group.links_skipped)}")
            if group.settings:
                lines.append(f"          settings: {'; '.join(group.settings)}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    if result.forgiven:
        lines.append(
            f"  note: {result.forgiven} use_after_free reports dropped: a read after a register that "
            "created the deleted resource again (contracts/hooks.py, RECREATES)"
        )
    if result.findings and verbose:
        lines += ["", "FAILURES"]
        shown: Counter = Counter()
        for finding in result.findings:
            shown[(finding.operation, finding.check)] += 1
            if shown[(finding.operation, finding.check)] > SHOWN_PER_CHECK:
                continue
            lines += [""] + finding_lines(finding, result.simulator, result.target.startswith("in-process"))
        for (operation, check), count in shown.items():
            if count > SHOWN_PER_CHECK:
                lines.append(f"- {operation} [{check}]: {count - SHOWN_PER_CHECK} more (see the JUnit report)")
    if result.errors:
        lines += ["", "ERRORS"]
        lines.extend(f"- {printable(error)}" for error in result.errors)
    cases = sum(op.cases for op in result.operations.values())
    failing = sum(op.failed for op in result.operations.values())
    lines += [
        "",
        f"{'OK' if result.ok else 'FAILED'}: {len(result.findings)} failures in {failing} of "
        f"{len(result.operations)} operations, {len(result.errors)} errors; {cases} cases in "
        f"{result.duration:.1f} s",
    ]
    return "\n".join(lines)


IN_PROCESS_URL = "http://localhost/"  # what Schemathesis puts in reproductions of in-process calls
SERVED_URL = "http://127.0.0.1:8080/"  # `pismo-sandbox serve`'s default address


def finding_lines(finding: "Finding", simulator: bool, in_process: bool = False) -> list[str]:
    """A failure, readable: what failed, the request, the response, a hint, a reproduction.
    An in-process run has no address to send the reproduction to: it is given for a sandbox
    served on the default port instead, saying so."""
    where = f" (status {finding.status_code}, {finding.phase} phase)" if finding.status_code else ""
    lines = [f"- {finding.operation} [{finding.check}] {printable(finding.title)}{where}"]
    lines += ["    " + printable(line) for line in finding.message.strip().splitlines()[:MESSAGE_LINES]]
    if finding.request:
        request = finding.request.replace(IN_PROCESS_URL, "/", 1) if in_process else finding.request
        lines += ["    request:  " + request.replace("\n", "\n    ")]
    if finding.response:
        lines += ["    response: " + finding.response.replace("\n", "\n    ")]
    lines.append(f"    hint: {hint(finding.check, simulator)}")
    if finding.reproduce:
        reproduce = printable(finding.reproduce)
        if in_process and IN_PROCESS_URL in reproduce:
            lines.append(
                "    reproduce (the run was in-process: start `pismo-sandbox serve` and use a token of"
                " its own for [Filtered]):"
            )
            lines.append(f"      {reproduce.replace(IN_PROCESS_URL, SERVED_URL)}")
        else:
            lines.append(f"    reproduce: {reproduce}")
    return lines


# -- JUnit -------------------------------------------------------------------------------------


def junit_suites(result: "HarnessResult") -> list[junit.Suite]:
    """One test suite per document, one test case per operation, one <failure> per finding;
    harness and engine errors as <error> cases of a suite of their own."""
    by_spec: dict[str, list] = defaultdict(list)
    for op in result.operations.values():
        by_spec[op.spec].append(op)
    durations = {group.name: group.duration for group in result.groups}
    suites = []
    for spec, ops in by_spec.items():
        suite = junit.Suite(
            name=spec, properties=[("target", result.target), ("seed", str(result.seed))], time=durations.get(spec, 0.0)
        )
        for op in sorted(ops, key=lambda o: o.label):
            case = junit.Case(
                op.label,
                spec,
                system_out=(
                    f"{op.cases} cases; checks: " + ", ".join(f"{k}={v}" for k, v in sorted(op.checks.items()))
                ),
            )
            for finding in op.findings:
                case.failures.append(
                    junit.Outcome(
                        finding.title,
                        finding.check,
                        "\n".join(finding_lines(finding, result.simulator, result.target.startswith("in-process"))),
                    )
                )
            suite.cases.append(case)
        suites.append(suite)
    if result.errors:
        suite = junit.Suite(name="harness")
        for n, error in enumerate(result.errors, 1):
            suite.cases.append(
                junit.Case(
                    f"error {n}", "harness", errors=[junit.Outcome(error.splitlines()[0][:300], "HarnessError", error)]
                )
            )
        suites.append(suite)
    return suites


def write_junit(result: "HarnessResult", path: str) -> None:
    junit.write(path, junit_suites(result), "pismo-sandbox contract")
