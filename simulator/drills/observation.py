"""What the sandbox recorded during a drill, read through the admin client: the journal window
of the drill's Pismo API requests, the wait until requests still in flight have landed, and the
Observation (journal, events, payments, credentials, fault counters) the drill is judged on."""

from __future__ import annotations

import time

from pismo_sandbox.client import AdminClient
from pismo_sandbox.drills.errors import admin_step
from pismo_sandbox.gateway.journal import answer_order
from pismo_sandbox.drills.model import DrillResult, Observation
from pismo_sandbox.drills.scenario import Scenario

QUIET_SECONDS = 0.3  # no new journal row for this long: nothing is in flight
MAX_SETTLE_SECONDS = 60.0
SLOW_PROVIDER_SECONDS = 2.0  # simulator.domains.bankslips.triggers.SLOW_SECONDS


def _delay_bound(rule: dict) -> float:
    action = rule.get("action", {})
    if action.get("type") == "delay":
        return (action.get("max_ms") or action.get("cap_ms") or action.get("ms") or 0) / 1000
    if action.get("type") == "timeout":
        return (action.get("ms") or 0) / 1000
    return 0.0


class Records:
    """The sandbox's records of one drill, read through ``admin``."""

    def __init__(self, admin: AdminClient):
        self.admin = admin

    def journal_rows(self, limit: int = 1000, tenant_id: str | None = None) -> list[dict]:
        with admin_step("reading the journal"):
            return self.admin.journal(limit=limit, tenant_id=tenant_id)

    def journal_mark(self) -> int:
        """The journal's last sequence number: rows after it belong to the drill."""
        return max((r["seq"] for r in self.journal_rows(1)), default=0)

    def events_mark(self) -> int:
        """The event log's last sequence number: events after it belong to the drill."""
        with admin_step("reading events"):
            events = self.admin.events(limit=1000)
        return max((e.get("seq", 0) for e in events), default=0)

    def window(self, context: dict, mark: int, recent: int = 1000) -> tuple[list[dict], bool]:
        """Pismo API rows after ``mark``, in answer order, and whether the read may be incomplete.
        Read per tenant (the runner's own /_sandbox calls fill the unfiltered journal), plus the
        most recent rows for requests no tenant could be told from (a bad token, server login)."""
        rows: dict[int, dict] = {}
        truncated = False
        for tenant in context["tenants"].values():
            found = [r for r in self.journal_rows(1000, tenant["tenant_id"]) if r["seq"] > mark]
            truncated |= len(found) >= 1000
            rows.update((r["seq"], r) for r in found)
        rows.update((r["seq"], r) for r in self.journal_rows(recent) if r["seq"] > mark)
        window = [r for r in rows.values() if not r["path"].startswith("/_sandbox")]
        return sorted(window, key=answer_order), truncated

    def settle(self, scenario: Scenario, context: dict, result: DrillResult, journal_mark: int) -> None:
        """Wait until requests still in flight (delayed by a fault, or by the slow-provider
        trigger) have landed in the journal: for every delay/timeout rule, as many journal rows
        name it as it fired; then no new row for QUIET_SECONDS."""
        started = time.monotonic()
        minimum = scenario.settle_seconds
        if minimum is None:
            slow = any(b.get("trigger") == "slow-provider" for b in scenario.setup["boletos"])
            minimum = SLOW_PROVIDER_SECONDS if slow else 0.0
        delayed = {r["id"] for r in result.faults if _delay_bound(r) > 0}
        bound = max([_delay_bound(r) for r in result.faults] + [0.0]) + minimum + 5
        last_seq, last_change = None, time.monotonic()
        while True:
            now = time.monotonic()
            recent = [
                r for r in self.journal_rows(100) if r["seq"] > journal_mark and not r["path"].startswith("/_sandbox")
            ]
            seq = max((r["seq"] for r in recent), default=journal_mark)
            if seq != last_seq:
                last_seq, last_change = seq, now
            landed = True
            if delayed:
                rows, _ = self.window(context, journal_mark, recent=100)
                with admin_step("reading faults"):
                    fired = {r["id"]: r.get("fired", 0) for r in self.admin.faults() if r["id"] in delayed}
                for rule_id, count in fired.items():
                    if sum(1 for r in rows if r.get("fault_rule") == rule_id) < count:
                        landed = False
            if landed and now - last_change >= QUIET_SECONDS and now - started >= minimum:
                return
            if now - started > min(bound, MAX_SETTLE_SECONDS):
                result.notes.append(
                    f"requests were still arriving {now - started:.1f} s after the client"
                    " finished; judged what had landed"
                )
                return
            time.sleep(0.1)

    def observe(self, context: dict, result: DrillResult, journal_mark: int, events_mark: int) -> Observation:
        """Everything the drill left behind; the fault rules in ``result`` get their counters."""
        journal, truncated = self.window(context, journal_mark)
        with admin_step("reading events"):
            events = self.admin.events(after=events_mark, limit=1000)
        payments, credentials = [], []
        for name, tenant in context["tenants"].items():
            with admin_step("reading payments"):
                payments += self.admin.payments(tenant["tenant_id"], limit=1000)
            with admin_step("reading credentials"):
                for credential in self.admin.credentials(tenant["tenant_id"]):
                    credentials.append({**credential, "tenant_id": tenant["tenant_id"], "tenant": name})
        with admin_step("reading faults"):
            listed = {r["id"]: dict(r) for r in self.admin.faults()}
        faults = [listed.get(r["id"], r) for r in result.faults]
        result.faults = faults
        return Observation(
            journal=journal,
            events=events,
            payments=payments,
            credentials=credentials,
            faults=faults,
            boletos=context["boletos"],
            tenants=context["tenants"],
            accounts=context["accounts"],
            journal_truncated=truncated,
        )
