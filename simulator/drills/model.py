"""What a drill run produces: the sandbox's observed state, the client's runs and the runner's
own exchanges, the checks (invariants, assertions) and the result of one scenario."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Exchange:
    """One request the runner sent (a step or a probe) and what came back."""

    name: str
    method: str
    path: str
    status: int | None = None
    headers: dict = field(default_factory=dict)
    body: Any = None
    error: str | None = None  # "timeout" / "connection" (with the exception text)
    error_text: str | None = None
    duration: float = 0.0

    def describe(self) -> str:
        outcome = f"{self.status}" if self.status is not None else f"no answer ({self.error}: {self.error_text})"
        return f"{self.method} {self.path} -> {outcome}"


@dataclass
class ClientRun:
    instance: int
    command: list[str]
    exit_code: int | None = None  # None: killed after the timeout
    timed_out: bool = False
    duration: float = 0.0
    stdout: str = ""
    stderr: str = ""


@dataclass
class Check:
    kind: str  # invariant, assertion, client, step
    name: str
    passed: bool
    summary: str
    details: list[str] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)  # journal rows involved
    line: int | None = None  # where the scenario file asks for it


@dataclass
class Observation:
    """The sandbox's own record of the drill window (after setup, faults installed)."""

    journal: list[dict]  # Pismo API requests, in answer order (gateway.journal.answer_order; no /_sandbox calls)
    events: list[dict]
    payments: list[dict]  # bank-slip payments of the scenario's tenants, with history
    credentials: list[dict]  # stored provider credentials (with tenant_id and tenant name)
    faults: list[dict]  # installed rules with matched / fired, in scenario order
    boletos: dict[str, dict]  # name -> generated boleto
    tenants: dict[str, dict]  # name -> {tenant_id, ...}
    accounts: dict[str, dict]  # name -> {tenant_id, account_id, ...}
    journal_truncated: bool = False

    def boleto_named(self, bar_code: str) -> str | None:
        for name, boleto in self.boletos.items():
            if boleto.get("bar_code") == bar_code:
                return name
        return None


@dataclass
class DrillResult:
    name: str
    path: str
    description: str
    duration: float = 0.0
    error: str | None = None  # the drill could not be run (setup failed, ...)
    faults: list[dict] = field(default_factory=list)
    client: dict | None = None  # the scenario's client section (command as run)
    runs: list[ClientRun] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    observation: Observation | None = None
    advanced_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    delivery_faults: list[dict] = field(default_factory=list)  # consumer drills: with counters
    consumer: dict | None = None  # consumer drills: the command as run and its subscription

    @property
    def passed(self) -> bool:
        return self.error is None and all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]
