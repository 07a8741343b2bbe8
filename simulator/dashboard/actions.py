"""The dashboard's write side: the clock presets, an account's status, fault rules (of requests
and of deliveries). Each goes
through the same service the admin API uses, so it is checked by the same rules (no Flask here)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pismo_sandbox.domains.bankslips.lifecycle import BRT
from pismo_sandbox.errors import NotFound, SandboxError
from pismo_sandbox.faults.errors import InvalidFaultRule
from pismo_sandbox.core import SandboxCore

CLOCK_ACTIONS = ("freeze", "unfreeze", "advance", "reset")
# Ids are SQLite integers (at most 2**63 - 1: 19 digits); a longer number names nothing.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
LARGEST_ID = 2**63 - 1
PRESETS = ("minute", "hour", "business_day")


class InvalidAction(SandboxError):
    status, code, message = 400, "SANDBOX_INVALID_REQUEST", "Invalid request"


def business_day_later(sandbox: SandboxCore, now: datetime) -> datetime:
    """The same Brasilia wall-clock time on the next business day of the clearing calendar
    (weekends and, unless disabled, national holidays skipped)."""
    local = now.astimezone(BRT)
    day = sandbox.bankslips.lifecycle.calendar.add_business_days(local.date(), 1)
    return datetime.combine(day, local.timetz())


def preset_seconds(sandbox: SandboxCore, preset: object) -> float:
    if preset == "minute":
        return 60
    if preset == "hour":
        return 3600
    if preset == "business_day":
        now = sandbox.clock.now()
        return (business_day_later(sandbox, now) - now) / timedelta(seconds=1)
    raise InvalidAction(details=f"preset: must be one of {', '.join(PRESETS)}")


def change_clock(sandbox: SandboxCore, body: dict) -> None:
    """{"action": freeze | unfreeze | reset} or {"action": "advance", "preset": minute | hour |
    business_day}."""
    action = body.get("action")
    if action == "freeze":
        sandbox.clock.change(freeze=True)
    elif action == "unfreeze":
        sandbox.clock.change(freeze=False)
    elif action == "reset":
        sandbox.clock.change(reset=True)
    elif action == "advance":
        sandbox.clock.change(advance_seconds=preset_seconds(sandbox, body.get("preset")))
    else:
        raise InvalidAction(details=f"action: must be one of {', '.join(CLOCK_ACTIONS)}")


def set_account_status(sandbox: SandboxCore, tenant_id: str, account_id: int, body: dict) -> dict:
    status = body.get("status")
    if not isinstance(status, str):
        raise InvalidAction(details="status: must be a string")
    if account_id > LARGEST_ID:
        raise NotFound(details=f"account {account_id} does not exist in tenant {tenant_id}")
    return sandbox.tenancy.set_account_status(tenant_id, account_id, status)


def add_fault(sandbox: SandboxCore, rule: object) -> dict:
    """Store a rule exactly as POST /_sandbox/faults would (the fault rule schema checks it)."""
    if not isinstance(rule, dict):
        raise InvalidFaultRule(details="rule: must be a JSON object")
    return sandbox.faults.add(rule)


def delete_fault(sandbox: SandboxCore, fault_id: str) -> None:
    if not sandbox.faults.delete(fault_id):
        raise NotFound(details=f"fault rule {fault_id} does not exist")


def delete_delivery_fault(sandbox: SandboxCore, fault_id: str) -> None:
    sandbox.deliveries.delete_rule(fault_id)  # DeliveryFaultNotFound (404) when there is none
