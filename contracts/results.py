"""What a contract run produces: findings per operation and check, the run's result (with its
text summary and JUnit report), and the error raised when the harness cannot run at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pismo_sandbox.contracts import report

if TYPE_CHECKING:
    from pismo_sandbox.contracts.groups import SpecGroup


class HarnessError(RuntimeError):
    """The harness could not run (bad arguments, login refused, target unreachable)."""


@dataclass
class Finding:
    """One failed check on one operation (deduplicated by check and message)."""

    operation: str
    check: str
    title: str
    message: str
    status_code: int | None = None
    phase: str | None = None
    reproduce: str | None = None
    request: str | None = None  # the request sent (contracts.report.request_excerpt)
    response: str | None = None  # the offending response (contracts.report.response_excerpt)


@dataclass
class OperationResult:
    label: str
    spec: str
    cases: int = 0
    checks: Counter = field(default_factory=Counter)  # check name -> runs
    failed_checks: Counter = field(default_factory=Counter)  # check name -> failed runs
    findings: list[Finding] = field(default_factory=list)
    by_phase: Counter = field(default_factory=Counter)  # phase -> cases
    by_mode: Counter = field(default_factory=Counter)  # positive / negative -> cases
    statuses: Counter = field(default_factory=Counter)  # response status -> cases

    @property
    def failed(self) -> bool:
        return bool(self.findings)


@dataclass
class HarnessResult:
    target: str
    seed: int
    examples: int
    groups: list[SpecGroup] = field(default_factory=list)
    operations: dict[str, OperationResult] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    duration: float = 0.0
    logins: int = 0
    forgiven: int = 0  # use_after_free failures on resources created again (hooks.RECREATES)
    notes: list[str] = field(default_factory=list)  # what the reader should know (faults left alone)
    simulator: bool = True  # whether the target is this simulator (where a fix goes, in hints)

    @property
    def findings(self) -> list[Finding]:
        return [f for op in self.operations.values() for f in op.findings]

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    def summary(self, verbose: bool = True) -> str:
        """The summary table, then every failure with its request, response and a hint."""
        return report.summary(self, verbose)

    def write_junit(self, path: str) -> None:
        """JUnit XML: one test suite per document, one test case per operation, one <failure>
        per finding; harness and engine errors as <error>."""
        report.write_junit(self, path)
