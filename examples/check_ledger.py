#!/usr/bin/env python3
"""A consumer drill's `check`: compare a consumer's ledger (see good_consumer.py) with what the
sandbox knows (its events and bank-slip payments). Exit 0 when the ledger is right; otherwise
print every difference, naming the events applied more than once, and exit 1.

Usage: check_ledger.py LEDGER   (PISMO_BASE_URL, PISMO_TENANT_ID and, if the sandbox requires it,
PISMO_SANDBOX_ADMIN_TOKEN, from `pismo-sandbox drill`). Reads the sandbox through its admin
client (pismo_sandbox.AdminClient).
"""

from __future__ import annotations

import collections
import json
import os
import sys
from decimal import Decimal

from pismo_sandbox import AdminClient


def main() -> int:
    ledger_path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PISMO_CONSUMER_LEDGER", "ledger.json")
    base, tenant = os.environ["PISMO_BASE_URL"], os.environ["PISMO_TENANT_ID"]
    try:
        with open(ledger_path, encoding="utf-8") as handle:
            ledger = json.load(handle)
    except (OSError, ValueError) as error:
        print(f"cannot read the consumer's ledger {ledger_path}: {error}")
        return 1
    admin = AdminClient(base, os.environ.get("PISMO_SANDBOX_ADMIN_TOKEN") or None, timeout=10)
    events = admin.events(tenant_id=tenant, limit=1000)
    payments = admin.payments(tenant, limit=1000)
    by_id = {e["event_id"]: e for e in events}
    problems = []
    for event_id, times in collections.Counter(ledger["applied"]).items():
        if times > 1:
            event = by_id.get(event_id, {})
            auth = (event.get("data", {}).get("authorization", {}) or {}).get("id") or event.get("data", {}).get(
                "authorization_id"
            )
            problems.append(
                f"event {event_id} ({event.get('event_type', '?')}, authorization {auth}) was applied {times} times"
            )
    missing = sorted(set(by_id) - set(ledger["applied"]))
    problems += [f"event {e} ({by_id[e]['event_type']}) was never applied" for e in missing]
    truth_total = sum((Decimal(str(p["amount"])) for p in payments), Decimal("0"))
    if Decimal(ledger["total"]) != truth_total:
        problems.append(f"ledger total {ledger['total']} != {truth_total}, the sum of the tenant's payments")
    for payment in payments:
        mine = ledger["payments"].get(str(payment["authorization_id"]))
        if mine is None:
            problems.append(f"payment {payment['authorization_id']} is not in the ledger")
        elif mine["status"] != payment["status"]:
            problems.append(
                f"payment {payment['authorization_id']}: ledger says {mine['status']},"
                f" the sandbox says {payment['status']}"
            )
    for line in problems:
        print(line)
    if not problems:
        print(f"ledger right: {len(payments)} payment(s), total {truth_total}, {len(ledger['applied'])} event(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
